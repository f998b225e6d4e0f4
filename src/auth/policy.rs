//! The password policy for new passwords (D15, Django's validators): length, not entirely numeric,
//! not the username, not a common password.

const COMMON: &str = include_str!("common_passwords.txt");
pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 128;

/// The signup policy (D15): 8–128 characters, not all digits, not the username, not a common password.
pub fn check_policy(password: &str, username: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err("This password is too short. It must contain at least 8 characters.");
    }
    if length > MAX_LENGTH {
        return Err("This password is too long. It must contain at most 128 characters.");
    }
    if password.trim().is_empty() {
        return Err("This password cannot be blank.");
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err("This password is entirely numeric.");
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower == username.to_lowercase() {
        return Err("The password is too similar to the username.");
    }
    if COMMON
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|common| common == lower)
    {
        return Err("This password is too common.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signup_policy() {
        assert!(check_policy("short1", "u").is_err());
        assert!(check_policy("12345678901", "u").is_err());
        assert!(check_policy("password123", "u").is_err());
        assert!(
            check_policy("Password123", "u").is_err(),
            "case-insensitive list"
        );
        assert!(check_policy("alice-the-great", "Alice-The-Great").is_err());
        assert!(check_policy("        ", "u").is_err());
        assert!(check_policy(&"x".repeat(129), "u").is_err());
        assert!(check_policy(&"x1".repeat(64), "u").is_ok());
        assert!(
            check_policy("चुनाव-अभियान-२०२६", "u").is_ok(),
            "non-Latin allowed"
        );
        assert!(check_policy("correct horse battery", "u").is_ok());
    }
}
