//! A bounded memory of recent keys, shared by the judge (bodies judged, attempt
//! numbers) and the findings collector (findings already counted).

use std::collections::HashMap;
use std::hash::Hash;

/// A map that forgets its older half when full: recent keys are found, memory is
/// bounded. Retries and fan-out copies of one body arrive within seconds, so they hit.
#[derive(Debug, Clone)]
pub(crate) struct Recent<K, V> {
    cap: usize,
    new: HashMap<K, V>,
    old: HashMap<K, V>,
}

impl<K: Hash + Eq + Clone, V: Clone> Recent<K, V> {
    /// Keeps at most `cap` keys per half.
    pub fn new(cap: usize) -> Self {
        Recent {
            cap: cap.max(1),
            new: HashMap::new(),
            old: HashMap::new(),
        }
    }
    /// The value of a recent key (a key found in the older half is kept on).
    pub fn get(&mut self, k: &K) -> Option<V> {
        if let Some(v) = self.new.get(k) {
            return Some(v.clone());
        }
        let v = self.old.remove(k)?;
        self.insert(k.clone(), v.clone());
        Some(v)
    }
    /// Remembers `k`; the older half is forgotten when the newer one is full.
    pub fn insert(&mut self, k: K, v: V) {
        if self.new.len() >= self.cap {
            self.old = std::mem::take(&mut self.new);
        }
        self.new.insert(k, v);
    }
}

impl<K: Hash + Eq + Clone> Recent<K, ()> {
    /// Remembers `k`; true when it was not among the recent keys.
    pub fn first_time(&mut self, k: K) -> bool {
        if self.get(&k).is_some() {
            return false;
        }
        self.insert(k, ());
        true
    }
}
