//! Deterministic pseudo-randomness: every simulated value is a pure function of the seed and what it describes,
//! so the same question always gets the same answer, from any process, in any order.

/// SplitMix64's finalizer: a fast, well-mixed 64-bit hash step.
pub fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

/// Hashes a seed and a list of parts (strings and numbers, as bytes) into one value.
pub fn hash(seed: u64, parts: &[&dyn HashPart]) -> u64 {
    parts.iter().fold(mix(seed), |state, part| part.fold_into(state))
}

/// A uniform value in `[0, 1)` from a hash.
pub fn unit(value: u64) -> f64 {
    (value >> 11) as f64 / (1u64 << 53) as f64
}

/// Something that can be folded into a hash.
pub trait HashPart {
    fn fold_into(&self, state: u64) -> u64;
}

impl HashPart for str {
    fn fold_into(&self, state: u64) -> u64 {
        self.bytes().fold(mix(state ^ 0x5354_5200), |state, byte| {
            mix(state ^ u64::from(byte))
        })
    }
}

impl HashPart for &str {
    fn fold_into(&self, state: u64) -> u64 {
        (**self).fold_into(state)
    }
}

impl HashPart for String {
    fn fold_into(&self, state: u64) -> u64 {
        self.as_str().fold_into(state)
    }
}

impl HashPart for u64 {
    fn fold_into(&self, state: u64) -> u64 {
        mix(state ^ *self)
    }
}

impl HashPart for i64 {
    fn fold_into(&self, state: u64) -> u64 {
        mix(state ^ *self as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_spread() {
        assert_eq!(hash(7, &[&"Q2AB", &3u64]), hash(7, &[&"Q2AB", &3u64]));
        assert_ne!(hash(7, &[&"Q2AB", &3u64]), hash(8, &[&"Q2AB", &3u64]));
        assert_ne!(hash(7, &[&"ab", &"c"]), hash(7, &[&"a", &"bc"]));
        let mean = (0..10_000u64).map(|index| unit(hash(1, &[&index]))).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }
}
