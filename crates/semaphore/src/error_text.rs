//! Errors as one line for people: the message and its causes, each said once.

/// An error and its causes, `error: cause: cause`, each said once. Many of semaphore's errors put their cause
/// in their own message (so that a log line, which shows the message alone, is complete) and also keep it as
/// their source; printing the chain as is (`{:#}`) would repeat it, as in "cannot use 127.0.0.1:9092 …:
/// Address already in use (os error 98); …: Address already in use (os error 98)". The Meraki client words
/// its transport errors the same way, so there is one implementation, in its crate.
pub use semaphore_meraki::error::one_line;

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that says its source in its message, as `#[error("…{source}…")]` variants do.
    #[derive(Debug)]
    struct BindError(std::io::Error);

    impl std::fmt::Display for BindError {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(
                formatter,
                "cannot use 127.0.0.1:9092: {}; is another program listening there?",
                self.0
            )
        }
    }

    impl std::error::Error for BindError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    /// Issue 11: a cause the message already says is not printed again; other causes are.
    #[test]
    fn each_cause_is_printed_once() {
        let busy = || std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address already in use");
        let error = anyhow::Error::new(BindError(busy()));
        assert_eq!(
            one_line(error.as_ref()),
            "cannot use 127.0.0.1:9092: Address already in use; is another program listening there?"
        );
        let error = anyhow::Error::new(busy()).context("cannot listen on 127.0.0.1:8081");
        assert_eq!(
            one_line(error.as_ref()),
            "cannot listen on 127.0.0.1:8081: Address already in use"
        );
        let error = error.context("cannot start");
        assert_eq!(
            one_line(error.as_ref()),
            "cannot start: cannot listen on 127.0.0.1:8081: Address already in use"
        );
    }
}
