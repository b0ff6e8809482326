//! The demo's content: a seeded random walk for the stock ticker, news headlines,
//! notifications and server-status readings. Pure: no clock, no I/O, so the same
//! seed gives the same sequence of values (the feed adds the times).

use std::collections::VecDeque;

use serde::Serialize;

/// Points of history kept per symbol (and for the status sparkline).
pub const HISTORY: usize = 60;

/// A small, fast, seedable generator (SplitMix64). Good enough to make a demo
/// look alive; not for anything that needs real randomness.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    pub fn below(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(f64::MIN_POSITIVE);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(0, items.len() as u64) as usize]
    }
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// (symbol, company, opening price, volatility per tick)
const SYMBOLS: [(&str, &str, f64, f64); 5] = [
    ("ACME", "Acme Robotics", 182.40, 0.0030),
    ("BOLT", "Bolt Energy", 46.12, 0.0045),
    ("CRAB", "Crustacean Labs", 318.75, 0.0035),
    ("ORBT", "Orbit Freight", 23.58, 0.0060),
    ("NOVA", "Nova Health", 97.30, 0.0025),
];

/// One symbol of the ticker.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// Ticker symbol.
    pub symbol: &'static str,
    /// Company name.
    pub name: &'static str,
    /// The day's opening price; `change` is measured from it.
    pub open: f64,
    /// Current price.
    pub price: f64,
    /// The last [`HISTORY`] prices, oldest first, the current one last.
    pub history: VecDeque<f64>,
    #[serde(skip)]
    volatility: f64,
}

/// A price move of one symbol: the `tick` event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tick {
    /// Ticker symbol.
    pub symbol: &'static str,
    /// New price.
    pub price: f64,
    /// Price minus the opening price.
    pub change: f64,
    /// `change` in percent of the opening price.
    pub change_pct: f64,
}

/// The stock market: a mean-reverting random walk per symbol.
#[derive(Debug, Clone)]
pub struct Market {
    /// The symbols, in display order.
    pub quotes: Vec<Quote>,
}

impl Market {
    /// The market with [`HISTORY`] points of made-up history per symbol.
    pub fn new(rng: &mut Rng) -> Market {
        let mut market = Market {
            quotes: SYMBOLS
                .iter()
                .map(|&(symbol, name, open, volatility)| Quote {
                    symbol,
                    name,
                    open,
                    price: open,
                    history: VecDeque::with_capacity(HISTORY + 1),
                    volatility,
                })
                .collect(),
        };
        for i in 0..market.quotes.len() {
            for _ in 0..HISTORY {
                market.step(rng, i);
            }
        }
        market
    }

    fn step(&mut self, rng: &mut Rng, index: usize) -> Tick {
        let quote = &mut self.quotes[index];
        // Pull gently back towards the open so a long-running demo stays plausible.
        let drift = -0.02 * (quote.price / quote.open).ln();
        let next = cents(quote.price * (drift + quote.volatility * rng.normal()).exp());
        quote.price = next.max(0.01);
        quote.history.push_back(quote.price);
        while quote.history.len() > HISTORY {
            quote.history.pop_front();
        }
        let change = cents(quote.price - quote.open);
        Tick {
            symbol: quote.symbol,
            price: quote.price,
            change,
            change_pct: (change / quote.open * 10_000.0).round() / 100.0,
        }
    }

    /// Moves one symbol, chosen at random.
    pub fn tick(&mut self, rng: &mut Rng) -> Tick {
        let index = rng.below(0, self.quotes.len() as u64) as usize;
        self.step(rng, index)
    }

    /// Sets `symbol`'s price and history to what another generator left (the last
    /// [`HISTORY`] points); an unknown symbol or an unusable price changes nothing.
    pub fn restore(&mut self, symbol: &str, price: f64, history: &[f64]) {
        let Some(quote) = self.quotes.iter_mut().find(|q| q.symbol == symbol) else {
            return;
        };
        if !(price.is_finite() && price > 0.0) {
            return;
        }
        quote.price = price;
        let start = history.len().saturating_sub(HISTORY);
        quote.history = history[start..]
            .iter()
            .copied()
            .filter(|p| p.is_finite())
            .collect();
    }
}

const HEADLINES: [(&str, &str); 24] = [
    (
        "Markets",
        "Acme Robotics beats estimates as warehouse orders double",
    ),
    (
        "Markets",
        "Bolt Energy signs 20-year offshore wind contract",
    ),
    (
        "Tech",
        "Crustacean Labs open-sources its memory-safe network stack",
    ),
    (
        "Markets",
        "Orbit Freight shares swing after port congestion report",
    ),
    (
        "Health",
        "Nova Health trial meets primary endpoint, shares steady",
    ),
    (
        "Economy",
        "Central bank holds rates, signals patience into next quarter",
    ),
    (
        "Tech",
        "WebAssembly components reach the big three browsers",
    ),
    (
        "Economy",
        "Consumer confidence ticks up for a third straight month",
    ),
    (
        "Tech",
        "Study: server-pushed updates cut dashboard load by 80%",
    ),
    (
        "Markets",
        "Chipmakers rally on stronger-than-expected guidance",
    ),
    (
        "World",
        "Shipping lanes reopen after a week of storms in the North Sea",
    ),
    (
        "Tech",
        "HTTP/3 now carries a third of all web traffic, CDN reports",
    ),
    (
        "Economy",
        "Retail sales rise 0.4% as holiday season starts early",
    ),
    ("Markets", "Acme Robotics names new chief operating officer"),
    (
        "Health",
        "Nova Health expands telemedicine service to 12 countries",
    ),
    (
        "Tech",
        "Crustacean Labs hires 200 engineers for its Berlin office",
    ),
    (
        "World",
        "Grid operators report record solar output at midday",
    ),
    ("Markets", "Bolt Energy raises full-year dividend by 8%"),
    (
        "Economy",
        "Manufacturing index returns to growth for the first time in a year",
    ),
    (
        "Tech",
        "Browser vendors agree on a common streaming-fetch API",
    ),
    (
        "Markets",
        "Orbit Freight adds 40 electric trucks to its European fleet",
    ),
    (
        "World",
        "Airports brace for record passenger numbers this weekend",
    ),
    (
        "Economy",
        "Inflation cools to 2.3%, lowest reading since spring",
    ),
    (
        "Tech",
        "Rust enters the top ten of the developer popularity survey",
    ),
];

/// A headline: the `news` event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct News {
    /// Running number of the headline.
    pub id: u64,
    /// Section, e.g. "Markets".
    pub category: &'static str,
    /// The headline.
    pub headline: &'static str,
}

/// Headlines at random, never one of the last [`NO_REPEAT`] again.
#[derive(Debug, Clone, Default)]
pub struct Newsroom {
    recent: VecDeque<usize>,
    count: u64,
}

/// How many headlines must pass before one comes back.
pub const NO_REPEAT: usize = 12;

impl Newsroom {
    /// Numbers the next headline `id + 1` (a generator taking over from another).
    pub fn continue_after(&mut self, id: u64) {
        self.count = self.count.max(id);
    }

    /// The next headline.
    pub fn next(&mut self, rng: &mut Rng) -> News {
        let fresh: Vec<usize> = (0..HEADLINES.len())
            .filter(|i| !self.recent.contains(i))
            .collect();
        let index = *rng.pick(&fresh);
        self.recent.push_back(index);
        if self.recent.len() > NO_REPEAT {
            self.recent.pop_front();
        }
        let (category, headline) = HEADLINES[index];
        self.count += 1;
        News {
            id: self.count,
            category,
            headline,
        }
    }
}

/// A notification: the `notification` event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Running number of the notification.
    pub id: u64,
    /// "info", "success" or "warning".
    pub level: &'static str,
    /// Short title.
    pub title: String,
    /// One line of detail.
    pub body: String,
}

const PEOPLE: [&str; 8] = [
    "Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Radia",
];
const PLACES: [&str; 6] = ["Lisbon", "Osaka", "Toronto", "Nairobi", "Berlin", "Austin"];
const SERVICES: [&str; 5] = ["web", "api", "billing", "search", "auth"];

/// Notifications for a made-up engineering team.
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    count: u64,
    last_kind: u64,
}

impl Inbox {
    /// Numbers the next notification `id + 1` (a generator taking over from another).
    pub fn continue_after(&mut self, id: u64) {
        self.count = self.count.max(id);
    }

    /// The next notification.
    pub fn next(&mut self, rng: &mut Rng) -> Notification {
        self.count += 1;
        let n = rng.below(100, 1000);
        // Never the same kind twice in a row.
        let kind = (self.last_kind + rng.below(1, 6)) % 6;
        self.last_kind = kind;
        let (level, title, body) = match kind {
            0 => (
                "success",
                "Deploy finished".to_owned(),
                format!("{}-{n} is live in production", rng.pick(&SERVICES),),
            ),
            1 => (
                "info",
                "New comment".to_owned(),
                format!("{} replied to your review on #{n}", rng.pick(&PEOPLE)),
            ),
            2 => (
                "warning",
                "New sign-in".to_owned(),
                format!("Someone signed in from {}. Was it you?", rng.pick(&PLACES)),
            ),
            3 => (
                "success",
                "Payment received".to_owned(),
                format!("Invoice INV-{n} was paid: €{}.00", rng.below(40, 900)),
            ),
            4 => (
                "info",
                "Backup complete".to_owned(),
                format!(
                    "Nightly snapshot of db-{}: {}.{} GB",
                    rng.below(1, 4),
                    rng.below(1, 9),
                    rng.below(0, 10)
                ),
            ),
            _ => (
                "warning",
                "Latency alert".to_owned(),
                format!(
                    "{} p99 at {} ms for 5 minutes",
                    rng.pick(&SERVICES),
                    rng.below(310, 780)
                ),
            ),
        };
        Notification {
            id: self.count,
            level,
            title,
            body,
        }
    }
}

/// A server-status reading: the `status` event. `connections` is real (the
/// demo's open streams); the rest is simulated.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// CPU load in percent.
    pub cpu: f64,
    /// Memory in use, percent.
    pub memory: f64,
    /// Requests per second served.
    pub rps: u64,
    /// Open demo streams (the live feed and the two-factor waits) right now.
    pub connections: u64,
    /// Seconds since the demo started.
    pub uptime_s: u64,
}

/// Simulated machine load: smooth random walks.
#[derive(Debug, Clone)]
pub struct Machine {
    cpu: f64,
    memory: f64,
    rps: f64,
    /// The last [`HISTORY`] CPU readings, oldest first.
    pub cpu_history: VecDeque<f64>,
}

impl Machine {
    /// A machine with [`HISTORY`] readings of made-up history.
    pub fn new(rng: &mut Rng) -> Machine {
        let mut machine = Machine {
            cpu: 38.0,
            memory: 61.0,
            rps: 420.0,
            cpu_history: VecDeque::with_capacity(HISTORY + 1),
        };
        for _ in 0..HISTORY {
            machine.read(rng, 0, 0);
        }
        machine
    }

    /// Continues from another generator's last reading and CPU history.
    pub fn restore(&mut self, status: &serde_json::Value, cpu_history: &[f64]) {
        let field = |name: &str| status.get(name).and_then(serde_json::Value::as_f64);
        if let Some(cpu) = field("cpu") {
            self.cpu = cpu.clamp(3.0, 99.0);
        }
        if let Some(memory) = field("memory") {
            self.memory = memory.clamp(20.0, 95.0);
        }
        if let Some(rps) = field("rps") {
            self.rps = rps.clamp(50.0, 2000.0);
        }
        if !cpu_history.is_empty() {
            let start = cpu_history.len().saturating_sub(HISTORY);
            self.cpu_history = cpu_history[start..].iter().copied().collect();
        }
    }

    /// The next reading.
    pub fn read(&mut self, rng: &mut Rng, connections: u64, uptime_s: u64) -> Status {
        self.cpu = (self.cpu + 0.15 * (40.0 - self.cpu) + 6.0 * rng.normal()).clamp(3.0, 99.0);
        self.memory =
            (self.memory + 0.05 * (62.0 - self.memory) + 0.8 * rng.normal()).clamp(20.0, 95.0);
        self.rps = (self.rps + 0.1 * (450.0 - self.rps) + 35.0 * rng.normal()).clamp(50.0, 2000.0);
        let cpu = self.cpu.round();
        self.cpu_history.push_back(cpu);
        while self.cpu_history.len() > HISTORY {
            self.cpu_history.pop_front();
        }
        Status {
            cpu,
            memory: (self.memory * 10.0).round() / 10.0,
            rps: self.rps.round() as u64,
            connections,
            uptime_s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            let u = a.unit();
            assert!((0.0..1.0).contains(&u));
            let n = a.below(3, 9);
            assert!((3..9).contains(&n));
            b.unit();
            b.below(3, 9);
        }
        assert_eq!(a.below(5, 5), 5);
    }

    #[test]
    fn market_moves_and_keeps_history() {
        let mut rng = Rng::new(1);
        let mut market = Market::new(&mut rng);
        assert!(market.quotes.iter().all(|q| q.history.len() == HISTORY));
        let before: Vec<f64> = market.quotes.iter().map(|q| q.price).collect();
        let mut moved = 0;
        for _ in 0..200 {
            let tick = market.tick(&mut rng);
            let quote = market
                .quotes
                .iter()
                .find(|q| q.symbol == tick.symbol)
                .unwrap();
            assert_eq!(quote.price, tick.price);
            assert_eq!(quote.history.back(), Some(&tick.price));
            assert!(tick.price > 0.0);
            assert_eq!(tick.change, cents(tick.price - quote.open));
        }
        for (quote, old) in market.quotes.iter().zip(before) {
            assert_eq!(quote.history.len(), HISTORY);
            if quote.price != old {
                moved += 1;
            }
            // Mean reversion keeps prices near the open.
            assert!((quote.price / quote.open - 1.0).abs() < 0.5, "{quote:?}");
        }
        assert!(moved >= 4, "{moved}");
    }

    #[test]
    fn headlines_do_not_come_back_too_soon() {
        let mut rng = Rng::new(3);
        let mut newsroom = Newsroom::default();
        let mut shown: Vec<&str> = Vec::new();
        for i in 1..=500u64 {
            let news = newsroom.next(&mut rng);
            assert_eq!(news.id, i);
            let window = &shown[shown.len().saturating_sub(NO_REPEAT)..];
            assert!(!window.contains(&news.headline), "{i}: {}", news.headline);
            shown.push(news.headline);
        }
        let distinct: std::collections::HashSet<_> = shown.iter().collect();
        assert_eq!(distinct.len(), HEADLINES.len());
    }

    #[test]
    fn notifications_and_status_are_plausible() {
        let mut rng = Rng::new(5);
        let mut inbox = Inbox::default();
        let mut last_title = String::new();
        for i in 1..50 {
            let note = inbox.next(&mut rng);
            assert_eq!(note.id, i);
            assert_ne!(note.title, last_title);
            last_title = note.title.clone();
            assert!(["info", "success", "warning"].contains(&note.level));
            assert!(!note.title.is_empty() && !note.body.is_empty());
        }
        let mut machine = Machine::new(&mut rng);
        for _ in 0..500 {
            let status = machine.read(&mut rng, 3, 10);
            assert!((3.0..=99.0).contains(&status.cpu));
            assert!((20.0..=95.0).contains(&status.memory));
            assert_eq!(status.connections, 3);
        }
        assert_eq!(machine.cpu_history.len(), HISTORY);
    }
}
