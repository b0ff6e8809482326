//! Command-line configuration of the `sse-server` binary.

use std::fmt;
use std::path::PathBuf;

/// Port used when neither `--port` nor the `PORT` environment variable is given.
pub const DEFAULT_PORT: u16 = 8080;

/// Usage text printed by `--help` and after a command-line error.
pub const USAGE: &str = "\
usage: sse-server [--host HOST] [--port N] [--port-file PATH] [--www DIR] [--pkg DIR]
                  [--redis redis://HOST:PORT [--instance NAME] [--allow-restart]]

  --host HOST       address to bind (default 127.0.0.1)
  --port N          port to bind; 0 picks a free port
                    (default: $PORT, else 8080)
  --port-file PATH  after binding, write the bound port number to PATH
  --www DIR         serve static files from DIR at /
  --pkg DIR         serve the npm package built in DIR at /pkg/
  --redis URL       run the demo as one instance of a cluster sharing this Redis
                    (redis://HOST:PORT): one feed, resume on any instance
  --instance NAME   this instance's name in the cluster (default HOST:PORT bound)
  --allow-restart   let POST /demo/restart?instance=NAME stop this instance
  -h, --help        print this help
";

/// Everything the binary needs to start serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Host name or address to bind.
    pub host: String,
    /// Port to bind; 0 asks the OS for a free one.
    pub port: u16,
    /// File that receives the bound port number once listening.
    pub port_file: Option<PathBuf>,
    /// Directory served as static files at `/`.
    pub www: Option<PathBuf>,
    /// Directory of the built npm package, served at `/pkg/`.
    pub pkg: Option<PathBuf>,
    /// `redis://HOST:PORT` of the cluster this instance joins; `None`: one process.
    pub redis: Option<String>,
    /// This instance's name in the cluster.
    pub instance: Option<String>,
    /// Whether another instance's `POST /demo/restart` may stop this one.
    pub allow_restart: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".to_owned(),
            port: DEFAULT_PORT,
            port_file: None,
            www: None,
            pkg: None,
            redis: None,
            instance: None,
            allow_restart: false,
        }
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the server with this configuration.
    Run(Config),
    /// Print [`USAGE`] and exit successfully.
    Help,
}

/// A command line that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

fn parse_port(value: &str, source: &str) -> Result<u16, CliError> {
    value
        .trim()
        .parse::<u16>()
        .map_err(|_| CliError(format!("{source}: not a port number: {value:?}")))
}

fn check_redis_url(url: String) -> Result<String, CliError> {
    match url.strip_prefix("redis://") {
        Some(rest) if !rest.is_empty() => Ok(url),
        _ => Err(CliError(format!(
            "--redis: expected redis://HOST:PORT, got {url:?}"
        ))),
    }
}

fn check_instance(name: String) -> Result<String, CliError> {
    let chars = name.chars().count();
    if chars == 0 || chars > 64 || name.chars().any(char::is_control) {
        return Err(CliError(
            "--instance: 1 to 64 characters, no control characters".to_owned(),
        ));
    }
    Ok(name)
}

/// Parses the arguments (without the program name). `port_env` is the value of
/// the `PORT` environment variable, passed in so that parsing stays pure.
pub fn parse_args<I>(args: I, port_env: Option<&str>) -> Result<Command, CliError>
where
    I: IntoIterator<Item = String>,
{
    let mut config = Config::default();
    let mut port = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        if arg == "--allow-restart" {
            config.allow_restart = true;
            continue;
        }
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| CliError(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--host" => config.host = value()?,
            "--port" => port = Some(parse_port(&value()?, "--port")?),
            "--port-file" => config.port_file = Some(PathBuf::from(value()?)),
            "--www" => config.www = Some(PathBuf::from(value()?)),
            "--pkg" => config.pkg = Some(PathBuf::from(value()?)),
            "--redis" => config.redis = Some(check_redis_url(value()?)?),
            "--instance" => config.instance = Some(check_instance(value()?)?),
            _ => return Err(CliError(format!("unknown argument: {arg}"))),
        }
    }
    config.port = match (port, port_env) {
        (Some(port), _) => port,
        (None, Some(env)) if !env.trim().is_empty() => parse_port(env, "PORT")?,
        _ => DEFAULT_PORT,
    };
    if config.host.is_empty() {
        return Err(CliError("--host must not be empty".to_owned()));
    }
    if config.redis.is_none() && (config.instance.is_some() || config.allow_restart) {
        return Err(CliError(
            "--instance and --allow-restart need --redis (they are about a cluster)".to_owned(),
        ));
    }
    Ok(Command::Run(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: Option<&str>) -> Result<Config, CliError> {
        match parse_args(args.iter().map(|s| s.to_string()), env)? {
            Command::Run(config) => Ok(config),
            Command::Help => Err(CliError("help".into())),
        }
    }

    #[test]
    fn defaults() {
        assert_eq!(run(&[], None).unwrap(), Config::default());
        assert_eq!(run(&[], Some("")).unwrap().port, DEFAULT_PORT);
    }

    #[test]
    fn port_precedence() {
        assert_eq!(run(&[], Some("9000")).unwrap().port, 9000);
        assert_eq!(run(&["--port", "0"], Some("9000")).unwrap().port, 0);
        assert_eq!(run(&["--port=7"], None).unwrap().port, 7);
        assert!(run(&[], Some("x")).is_err());
        assert!(run(&["--port", "70000"], None).is_err());
        assert!(run(&["--port"], None).is_err());
    }

    #[test]
    fn all_flags() {
        let c = run(
            &[
                "--host",
                "::1",
                "--port-file",
                "/tmp/p",
                "--www=www",
                "--pkg",
                "pkg",
            ],
            None,
        )
        .unwrap();
        assert_eq!(c.pkg, Some(PathBuf::from("pkg")));
        assert_eq!(c.host, "::1");
        assert_eq!(c.port_file, Some(PathBuf::from("/tmp/p")));
        assert_eq!(c.www, Some(PathBuf::from("www")));
        assert!(run(&["--bogus"], None).is_err());
        assert_eq!(c.redis, None);
        let c = run(
            &[
                "--redis",
                "redis://127.0.0.1:6379",
                "--instance=a",
                "--allow-restart",
            ],
            None,
        )
        .unwrap();
        assert_eq!(c.redis.as_deref(), Some("redis://127.0.0.1:6379"));
        assert_eq!(c.instance.as_deref(), Some("a"));
        assert!(c.allow_restart);
        assert!(run(&["--redis", "127.0.0.1:6379"], None).is_err());
        assert!(run(&["--redis", "redis://"], None).is_err());
        assert!(run(&["--instance", ""], None).is_err());
        assert!(run(&["--instance", "a"], None).is_err());
        assert!(run(&["--allow-restart"], None).is_err());
        assert_eq!(
            parse_args(["--help".to_string()], None).unwrap(),
            Command::Help
        );
    }
}
