//! Choosing the data mask: the penalty of `score::score` for every mask,
//! computed on bit planes (64 modules per operation) rather than module by
//! module on a masked copy of the matrix.
//!
//! Added by the mdm-toolkit vendoring (see `VENDORED.md`). The scores are the
//! very numbers `score::score` gives, so the chosen mask and the symbol do not
//! change; `tests` below holds the two to that on random payloads of every
//! version and error-correction level.

use std::sync::OnceLock;

use crate::datamasking::{self, Mask};
use crate::hardcode::PERCENT_SCORE;
use crate::module::{Module, ModuleType};
use crate::qr::{QRCode, QR_MAX_WIDTH};

/// 192 bits: a line of 177 modules and the four light ones after it.
const WORDS: usize = QR_MAX_WIDTH.div_ceil(64);

/// A line of modules, bit `i` for module `i`; bits past the line are zero.
#[derive(Clone, Copy, Default)]
struct Bits([u64; WORDS]);

impl Bits {
    fn first(n: usize) -> Self {
        let mut b = Bits::default();
        for (w, word) in b.0.iter_mut().enumerate() {
            let low = w * 64;
            *word = if n >= low + 64 {
                u64::MAX
            } else if n > low {
                (1u64 << (n - low)) - 1
            } else {
                0
            };
        }
        b
    }

    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn and(self, o: Self) -> Self {
        let mut r = self;
        for (a, b) in r.0.iter_mut().zip(o.0) {
            *a &= b;
        }
        r
    }

    fn xor(self, o: Self) -> Self {
        let mut r = self;
        for (a, b) in r.0.iter_mut().zip(o.0) {
            *a ^= b;
        }
        r
    }

    fn or(self, o: Self) -> Self {
        let mut r = self;
        for (a, b) in r.0.iter_mut().zip(o.0) {
            *a |= b;
        }
        r
    }

    /// Complement within the first `within` bits.
    fn not(self, within: Self) -> Self {
        let mut r = self;
        for (a, b) in r.0.iter_mut().zip(within.0) {
            *a = !*a & b;
        }
        r
    }

    /// Bit `i` of the result is bit `i + 1` of `self`.
    fn next(self) -> Self {
        let mut r = Bits::default();
        for w in 0..WORDS {
            let carry = if w + 1 < WORDS {
                self.0[w + 1] << 63
            } else {
                0
            };
            r.0[w] = (self.0[w] >> 1) | carry;
        }
        r
    }

    /// Bit `i` of the result is bit `i - d` of `self` (zero below `d`), `d < 64`.
    fn back(self, d: usize) -> Self {
        if d == 0 {
            return self;
        }
        let mut r = Bits::default();
        for w in 0..WORDS {
            let carry = if w > 0 { self.0[w - 1] >> (64 - d) } else { 0 };
            r.0[w] = (self.0[w] << d) | carry;
        }
        r
    }

    fn count(self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }
}

/// Where each mask toggles a data module, as rows and as columns, for one size.
struct Patterns {
    rows: [[Bits; QR_MAX_WIDTH]; 8],
    cols: [[Bits; QR_MAX_WIDTH]; 8],
}

/// One entry per version (sizes 21, 25, …, 177), made on first use by
/// running the crate's own mask functions over an all-data matrix.
static PATTERNS: [OnceLock<Box<Patterns>>; 40] = [const { OnceLock::new() }; 40];

fn patterns(n: usize) -> &'static Patterns {
    PATTERNS[(n - 17) / 4 - 1].get_or_init(|| {
        let mut p = Box::new(Patterns {
            rows: [[Bits::default(); QR_MAX_WIDTH]; 8],
            cols: [[Bits::default(); QR_MAX_WIDTH]; 8],
        });
        for (m, mask) in MASKS.iter().enumerate() {
            let mut template = QRCode::default(n);
            datamasking::mask(&mut template, *mask);
            for r in 0..n {
                for c in 0..n {
                    if template[r][c].value() == Module::DARK {
                        p.rows[m][r].set(c);
                        p.cols[m][c].set(r);
                    }
                }
            }
        }
        p
    })
}

pub(crate) const MASKS: [Mask; 8] = [
    Mask::Checkerboard,
    Mask::HorizontalLines,
    Mask::VerticalLines,
    Mask::DiagonalLines,
    Mask::LargeCheckerboard,
    Mask::Fields,
    Mask::Diamonds,
    Mask::Meadow,
];

/// Values and data-module flags of the unmasked matrix, by rows and by columns.
struct Planes {
    n: usize,
    rows: [Bits; QR_MAX_WIDTH],
    row_data: [Bits; QR_MAX_WIDTH],
    cols: [Bits; QR_MAX_WIDTH],
    col_data: [Bits; QR_MAX_WIDTH],
}

impl Planes {
    fn of(qr: &QRCode) -> Self {
        let n = qr.size;
        let mut p = Planes {
            n,
            rows: [Bits::default(); QR_MAX_WIDTH],
            row_data: [Bits::default(); QR_MAX_WIDTH],
            cols: [Bits::default(); QR_MAX_WIDTH],
            col_data: [Bits::default(); QR_MAX_WIDTH],
        };
        for r in 0..n {
            for (c, module) in qr[r].iter().enumerate() {
                if module.value() == Module::DARK {
                    p.rows[r].set(c);
                    p.cols[c].set(r);
                }
                if module.module_type() == ModuleType::Data {
                    p.row_data[r].set(c);
                    p.col_data[c].set(r);
                }
            }
        }
        p
    }
}

/// Runs of five or more same-coloured data modules: `length - 2` each (the
/// `line_score` of `score::line`). A non-data module ends a run.
fn run_penalty(values: Bits, data: Bits, all: Bits) -> u32 {
    // Module k and k + 1 belong to the same run.
    let same = data
        .and(data.next())
        .and(values.xor(values.next()).not(all));
    // Modules k..k + 4 all belong to one run.
    let five = same
        .and(same.next())
        .and(same.next().next())
        .and(same.next().next().next());
    // …and k is where that run starts.
    let starts = five.and(same.back(1).not(all));
    five.count() + 2 * starts.count()
}

/// `1011101` with four light modules before or after it (the quiet zone
/// counts as light at both ends): the `patt_score / 40` of `score::line`.
fn finder_lookalikes(values: Bits, n: usize) -> u32 {
    // Oldest to newest, the two 11-module windows `score::line` compares.
    const BEFORE: [bool; 11] = [
        false, false, false, false, true, false, true, true, true, false, true,
    ];
    const AFTER: [bool; 11] = [
        true, false, true, true, true, false, true, false, false, false, false,
    ];
    let count = |pattern: &[bool; 11], ends: Bits| {
        let mut hits = ends;
        for (t, &dark) in pattern.iter().enumerate() {
            let at = values.back(10 - t);
            hits = hits.and(if dark { at } else { at.not(ends) });
        }
        hits.count()
    };
    count(&BEFORE, Bits::first(n)) + count(&AFTER, Bits::first(n + 4))
}

/// The penalty of the matrix under each mask, as `score::score` computes it
/// on a masked copy.
pub(crate) fn scores(qr: &QRCode) -> [u32; 8] {
    let planes = Planes::of(qr);
    let n = planes.n;
    let patterns = patterns(n);
    let all = Bits::first(n);
    let pairs = Bits::first(n - 1);
    let mut first = Bits::default();
    first.set(0);
    let mut scores = [0u32; 8];
    for (m, score) in scores.iter_mut().enumerate() {
        let mut rows = [Bits::default(); QR_MAX_WIDTH];
        for r in 0..n {
            rows[r] = planes.rows[r].xor(patterns.rows[m][r].and(planes.row_data[r]));
        }
        let mut lines = 0;
        let mut lookalikes = 0;
        let mut dark = 0;
        for r in 0..n {
            lines += run_penalty(rows[r], planes.row_data[r], all);
            lookalikes += finder_lookalikes(rows[r], n);
            dark += rows[r].count();
        }
        for c in 0..n {
            let col = planes.cols[c].xor(patterns.cols[m][c].and(planes.col_data[c]));
            lines += run_penalty(col, planes.col_data[c], all);
            lookalikes += finder_lookalikes(col, n);
        }
        let mut squares = 0;
        for r in 0..n - 1 {
            let (a, b) = (rows[r], rows[r + 1]);
            let same = a.xor(b).not(all);
            let uniform = same
                .and(same.next())
                .and(a.xor(a.next()).not(all))
                .and(pairs);
            let data = planes.row_data[r].and(planes.row_data[r + 1]);
            let counted = data.next().and(data.or(first));
            squares += 3 * uniform.and(counted).count();
        }
        let percent = (dark as usize * 100) / (n * n);
        let dark_score = u32::from(PERCENT_SCORE.get(percent).copied().unwrap_or(90));
        *score = lines + 40 * lookalikes + squares + dark_score;
    }
    scores
}

/// The mask with the lowest penalty (the first of equals).
pub(crate) fn best(qr: &QRCode) -> Mask {
    let scores = scores(qr);
    let mut best = 0;
    for (m, &s) in scores.iter().enumerate() {
        if s < scores[best] {
            best = m;
        }
    }
    MASKS[best]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compact::CompactQR;
    use crate::{Version, ECL};

    /// The matrix `place_on_matrix` scores: function patterns and data, unmasked.
    fn unmasked(input: &[u8], ecl: ECL) -> QRCode {
        let mode = crate::encode::best_encoding(input);
        let version = Version::get(mode, ecl, input.len()).unwrap();
        let data = crate::encode::encode(input, ecl, mode, version);
        let structure = crate::polynomials::structure(data.get_data(), ecl, version);
        let bits =
            CompactQR::from_array(&structure, version.max_bytes() * 8 + version.missing_bits());
        let mut qr = crate::default::create_matrix(version);
        crate::placement::place_on_matrix_data(&mut qr, &bits);
        qr
    }

    /// What the crate did before: mask a copy, score it with `score::score`.
    fn scores_by_copies(qr: &QRCode) -> [u32; 8] {
        let mut scores = [0; 8];
        for (m, mask) in MASKS.iter().enumerate() {
            let mut copy = qr.clone();
            datamasking::mask(&mut copy, *mask);
            scores[m] = crate::score::score(&copy);
        }
        scores
    }

    /// A small deterministic generator (xorshift), so the test needs no crates.
    fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn bit_plane_scores_are_the_copy_scores() {
        let mut checked = 0;
        for (e, ecl) in [ECL::L, ECL::M, ECL::Q, ECL::H].into_iter().enumerate() {
            for len in (1..2900).step_by(37) {
                for seed in 0..2u64 {
                    let mut input = bytes(seed * 7919 + len as u64 * 31 + e as u64, len);
                    if seed == 1 {
                        // Text: alphanumeric and numeric modes too.
                        input
                            .iter_mut()
                            .for_each(|b| *b = b"0123456789ABCDEF"[usize::from(*b % 16)]);
                    }
                    if Version::get(crate::encode::best_encoding(&input), ecl, input.len())
                        .is_none()
                    {
                        continue;
                    }
                    let qr = unmasked(&input, ecl);
                    assert_eq!(
                        scores(&qr),
                        scores_by_copies(&qr),
                        "{ecl:?}, {len} bytes, seed {seed}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 300, "only {checked} symbols checked");
    }

    #[test]
    fn links_pick_the_mask_the_copies_pick() {
        for i in 0..200u32 {
            let link = format!("https://mdm.example.com/enroll/{i:043}");
            let qr = unmasked(link.as_bytes(), ECL::M);
            let by_copies = scores_by_copies(&qr);
            let lowest = by_copies.iter().copied().min().unwrap();
            let expected = by_copies.iter().position(|&s| s == lowest).unwrap();
            assert_eq!(best(&qr) as usize, MASKS[expected] as usize);
        }
    }
}
