//! The comparable form of a function or a piece of data ([`Print`]): its bytes with every
//! relocated field zeroed, its relocations as `(offset, type, target)`, and the named symbols it
//! reaches. A target with a name of its own compares by name and addend, a position inside a
//! function's code by that function's name and offset, and an unnamed piece of data by the hash
//! of its own comparable form, followed recursively (memoised, cycles and depth bounded). Also
//! the hash of a global's extent and by how much that extent may grow with padding.
//!
//! Which positions start a piece and what a relocated field holds are `object.rs` and
//! `fields.rs`; what a difference means is `rules.rs`.

use super::object::{unnamed, Obj, Piece};
use super::Global;
use crate::coff::Relocation;
use object::pe;
use std::hash::{DefaultHasher, Hash, Hasher};

/// The target of a relocation, as compared between the builds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Target<'o> {
    /// A symbol with a name of its own, plus the addend.
    Name(&'o [u8], i64),
    /// A position inside a function's code: the function's name and the offset.
    Code(&'o [u8], i64),
    /// An unnamed piece of data, by the hash of its bytes and relocations.
    Content(u64),
    /// A relocation whose symbol index is invalid.
    Invalid(u32),
}

/// A function's (or a piece of data's) comparable form.
pub(super) struct Print<'o> {
    /// The bytes with every relocated field zeroed.
    pub(super) bytes: Vec<u8>,
    /// `(offset from the start, type, target)`, in offset order.
    pub(super) relocs: Vec<(u32, u16, Target<'o>)>,
    /// Symbol indices of the named functions and globals it refers to, also through unnamed
    /// data.
    pub(super) refs: Vec<u32>,
}

/// How many unnamed pieces of data [`Obj::piece`] follows from one reference.
const MAX_DEPTH: u32 = 256;

/// Placeholder hash of a piece whose hash is being computed (a cycle of unnamed data).
const CYCLE: u64 = 0x0063_7963_6c65;

impl Obj<'_> {
    /// The comparable form of `[start, end)` of section `sec`.
    pub(super) fn print(&self, sec: u32, start: u32, end: u32) -> Print<'_> {
        let data = self.section_data(sec);
        let mut bytes = data
            .get(start as usize..(end as usize).min(data.len()))
            .unwrap_or(&[])
            .to_vec();
        let rs = &self.relocs[sec as usize - 1];
        let first = rs.partition_point(|r| r.offset < start);
        let mut relocs = Vec::new();
        let mut refs = Vec::new();
        for r in rs[first..].iter().take_while(|r| r.offset < end) {
            let f = self.field(sec, r);
            if let Some(f) = &f {
                f.clear(&mut bytes, (r.offset - start) as usize);
            }
            let addend = f.map_or(0, |f| f.addend);
            let target = self.target(sec, r, addend, &mut refs);
            relocs.push((r.offset - start, r.typ, target));
        }
        Print {
            bytes,
            relocs,
            refs,
        }
    }

    /// How relocation `r` (with `addend`) of section `sec` compares; the named symbols it
    /// reaches go to `refs`.
    fn target(&self, sec: u32, r: &Relocation, addend: i64, refs: &mut Vec<u32>) -> Target<'_> {
        let Some(sym) = self.coff.symbol(r.symbol) else {
            return Target::Invalid(r.symbol);
        };
        if !unnamed(&self.coff, sym) || sym.defined_in().is_none() {
            refs.push(sym.index);
            return Target::Name(&sym.name, addend);
        }
        let Some((tsec, off)) = self.unnamed_target(sec, r) else {
            return Target::Name(&sym.name, addend);
        };
        let list = &self.funcs[tsec as usize - 1];
        if !list.is_empty() {
            let i = list.partition_point(|&(v, _)| v <= off).max(1);
            let (v, s) = list[i - 1];
            if let Some(f) = self.coff.symbol(s) {
                refs.push(s);
                return Target::Code(&f.name, i64::from(off) - i64::from(v));
            }
        }
        if let Some(&s) = self.named_at.get(&(tsec, off)) {
            refs.push(s);
            return Target::Name(self.coff.symbol(s).map_or(&[][..], |s| &s.name), 0);
        }
        let piece = self.piece(tsec, off);
        refs.extend(piece.refs);
        Target::Content(piece.hash)
    }

    /// The hash and references of the unnamed piece at `(sec, start)`, memoised.
    fn piece(&self, sec: u32, start: u32) -> Piece {
        if let Some(p) = self.memo.borrow().get(&(sec, start)) {
            return p.clone();
        }
        if self.depth.get() >= MAX_DEPTH {
            // Unnamed data this deeply chained is not what compilers emit; compare its size.
            return Piece {
                hash: u64::from(self.piece_end(sec, start) - start),
                refs: Vec::new(),
            };
        }
        self.depth.set(self.depth.get() + 1);
        self.memo.borrow_mut().insert(
            (sec, start),
            Piece {
                hash: CYCLE,
                refs: Vec::new(),
            },
        );
        let end = self.piece_end(sec, start);
        let p = self.print(sec, start, end);
        // The zeros that end a piece may be padding before the next one: they do not count.
        let mut h = DefaultHasher::new();
        trim_zeros(&p.bytes).hash(&mut h);
        p.relocs.hash(&mut h);
        let entries = self.relative_entries(sec, start, end);
        let mut refs = p.refs;
        for at in entries {
            let target = self.piece(sec, at);
            target.hash.hash(&mut h);
            refs.extend(target.refs);
        }
        let piece = Piece {
            hash: h.finish(),
            refs,
        };
        self.memo.borrow_mut().insert((sec, start), piece.clone());
        self.depth.set(self.depth.get() - 1);
        piece
    }

    /// Hash of a global's extent: its bytes up to the last non-zero one (the zeros after it may
    /// be padding, see [`Obj::padding_slack`]) and its relocations.
    pub(super) fn extent_hash(&self, g: &Global) -> u64 {
        if g.section == 0 {
            return 0;
        }
        let p = self.print(g.section, g.start, g.start + g.size);
        let mut h = DefaultHasher::new();
        trim_zeros(&p.bytes).hash(&mut h);
        p.relocs.hash(&mut h);
        h.finish()
    }

    /// By how much a global's extent may differ between builds without its size changing.
    /// Several globals share a section unless each has its own (`/Gw`, `-fdata-sections`,
    /// COMDATs), and an extent runs to the next symbol, so it includes the padding that aligns
    /// that symbol: fewer bytes than the section's alignment. A global alone in its section, or
    /// a common symbol, has its exact size (slack 0, sizes must match).
    pub(super) fn padding_slack(&self, g: &Global) -> u32 {
        let Some(s) = self.coff.section(g.section) else {
            return 0;
        };
        let alone = self.bounds[g.section as usize - 1].len() == 1;
        if alone {
            return 0;
        }
        match (s.flags & pe::IMAGE_SCN_ALIGN_MASK) >> 20 {
            0 => 16,
            n => 1 << (n - 1),
        }
    }
}

/// `bytes` without its trailing zero bytes.
fn trim_zeros(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &bytes[..end]
}
