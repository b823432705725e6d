//! Go's URL and address checks that Alertmanager 0.25 applies to URL-typed settings
//! (`config.parseURL`) and to `smtp_smarthost` (`config.HostPort`).
//!
//! Invariants: each function accepts what the Go code accepts and fails with its message.

/// Go's `config.parseURL`: an http(s) URL with a host.
pub(super) fn parse_go_url(text: &str) -> Result<(), String> {
    let scheme_end = text.find(':');
    let scheme = match scheme_end {
        Some(end)
            if end > 0
                && text[..end].starts_with(|character: char| character.is_ascii_alphabetic())
                && text[..end].chars().all(|character| {
                    character.is_ascii_alphanumeric() || matches!(character, '+' | '-' | '.')
                }) =>
        {
            text[..end].to_ascii_lowercase()
        }
        _ => String::new(),
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!("unsupported scheme {scheme:?} for URL"));
    }
    let rest = &text[scheme.len() + 1..];
    let host = rest
        .strip_prefix("//")
        .map(|authority| {
            let end = authority.find(['/', '?', '#']).unwrap_or(authority.len());
            let authority = &authority[..end];
            authority.rsplit('@').next().unwrap_or("")
        })
        .unwrap_or("");
    if host.is_empty() {
        return Err("missing host for URL".to_string());
    }
    Ok(())
}

/// Go's `config.HostPort.UnmarshalYAML` via `net.SplitHostPort`.
pub(super) fn parse_host_port(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    let Some(colon) = text.rfind(':') else {
        return Err(format!("address {text}: missing port in address"));
    };
    if text[..colon].contains(':') && !text.starts_with('[') {
        return Err(format!("address {text}: too many colons in address"));
    }
    if colon == text.len() - 1 {
        return Err(format!("address {text:?}: port cannot be empty"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_go_parse_url() {
        assert!(parse_go_url("https://hooks.example.com/x").is_ok());
        assert_eq!(
            parse_go_url("hooks.example.com/x").unwrap_err(),
            "unsupported scheme \"\" for URL"
        );
        assert_eq!(
            parse_go_url("ftp://x").unwrap_err(),
            "unsupported scheme \"ftp\" for URL"
        );
        assert_eq!(
            parse_go_url("http:///x").unwrap_err(),
            "missing host for URL"
        );
    }
}
