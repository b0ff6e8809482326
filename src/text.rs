//! Messages put together without `core::fmt` (pure): `format!` would link the whole
//! formatting machinery into the npm package (about 3 KB of its .wasm) for the few
//! numbers its messages print. Pieces are joined with `concat`; numbers go through
//! [`decimal`].

/// `n` in decimal.
pub(crate) fn decimal(mut n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // A digit: n % 10 is below 10.
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[start..]
        .iter()
        .map(|&digit| char::from(digit))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_prints_like_display() {
        for n in [0, 7, 10, 204, 503, 65_535, 1_000_000, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }
}
