//! In-process sliding windows: the last resort when neither Redis nor the database answers.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use super::{Decision, Op, Rule, decide};

const MAX_KEYS: usize = 100_000;

#[derive(Debug, Default)]
pub struct MemoryLimiter {
    hits: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl MemoryLimiter {
    pub fn apply(&self, rule: &Rule, key: &str, op: Op, now_ms: i64) -> Decision {
        let window_ms = rule.window.as_millis() as i64;
        let mut map = match self.hits.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if op == Op::Reset {
            map.remove(key);
            return decide(rule, op, 0, None, now_ms);
        }
        if map.len() >= MAX_KEYS {
            map.retain(|_, q| q.back().is_some_and(|t| *t > now_ms - 3_600_000));
        }
        let queue = map.entry(key.to_string()).or_default();
        while queue.front().is_some_and(|t| *t <= now_ms - window_ms) {
            queue.pop_front();
        }
        let count = u32::try_from(queue.len()).unwrap_or(u32::MAX);
        let decision = decide(rule, op, count, queue.front().copied(), now_ms);
        if op == Op::Hit && decision.allowed {
            queue.push_back(now_ms);
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratelimit::LOGIN_PER_IP;

    #[test]
    fn sliding_window_in_memory() {
        let m = MemoryLimiter::default();
        for i in 0..5 {
            assert!(m.apply(&LOGIN_PER_IP, "k", Op::Hit, 1_000 + i).allowed);
        }
        assert!(!m.apply(&LOGIN_PER_IP, "k", Op::Hit, 2_000).allowed);
        assert!(!m.apply(&LOGIN_PER_IP, "k", Op::Peek, 2_000).allowed);
        assert!(m.apply(&LOGIN_PER_IP, "other", Op::Hit, 2_000).allowed);
        // The first hit leaves the window 60 s after it was made.
        assert!(m.apply(&LOGIN_PER_IP, "k", Op::Hit, 61_001).allowed);
        m.apply(&LOGIN_PER_IP, "k", Op::Reset, 61_002);
        assert_eq!(m.apply(&LOGIN_PER_IP, "k", Op::Peek, 61_003).remaining, 5);
    }
}
