//! Relocated fields, per machine (x64, x86, ARM64): for each COFF relocation type, which bits of
//! the bytes at the relocation's offset the linker writes, and the addend those bits hold, so
//! that two builds compare outside those bits and by their targets.
//!
//! Type numbers are winnt.h's `IMAGE_REL_AMD64_*`, `IMAGE_REL_I386_*` and `IMAGE_REL_ARM64_*`.
//! A type without a field, an unknown type or another machine gives no field: those bytes are
//! then compared as they are.

use object::pe;

/// A relocated field: where its bits are and the addend they hold.
#[derive(Debug, Clone, Copy)]
pub(super) struct Field {
    /// Bytes, little-endian, starting at the relocation's offset.
    width: usize,
    /// Bits of those bytes that the linker writes.
    mask: u64,
    pub(super) addend: i64,
}

impl Field {
    /// Zeroes the field's bits in `bytes`, the field starting at `at`.
    pub(super) fn clear(&self, bytes: &mut [u8], at: usize) {
        if let Some(b) = bytes.get_mut(at..at + self.width) {
            let mut v = 0u64;
            for (i, x) in b.iter().enumerate() {
                v |= u64::from(*x) << (8 * i);
            }
            v &= !self.mask;
            for (i, x) in b.iter_mut().enumerate() {
                *x = (v >> (8 * i)) as u8;
            }
        }
    }

    /// Bits `mask` of a 32-bit instruction, holding `addend`.
    fn insn(mask: u64, addend: i64) -> Option<Field> {
        Some(Field {
            width: 4,
            mask,
            addend,
        })
    }
}

fn sext(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// The field relocation type `typ` writes at `offset` of `data`, for `machine`; `None` for types
/// without a field or unknown ones (their bytes are then compared as they are).
pub(super) fn field(machine: u16, typ: u16, data: &[u8], offset: u32) -> Option<Field> {
    let at = At {
        data,
        offset: offset as usize,
    };
    match pe::Machine(machine) {
        pe::IMAGE_FILE_MACHINE_AMD64 => amd64_field(typ, at),
        pe::IMAGE_FILE_MACHINE_I386 => i386_field(typ, at),
        pe::IMAGE_FILE_MACHINE_ARM64 => arm64_field(typ, at),
        _ => None,
    }
}

/// `IMAGE_REL_AMD64_*`.
fn amd64_field(typ: u16, at: At<'_>) -> Option<Field> {
    match typ {
        1 => at.plain(8),
        2..=9 | 0xB | 0xD | 0xE | 0x10 => at.plain(4),
        0xA => at.plain(2),
        0xC => at.secrel7(),
        _ => None,
    }
}

/// `IMAGE_REL_I386_*`.
fn i386_field(typ: u16, at: At<'_>) -> Option<Field> {
    match typ {
        6 | 7 | 0xB | 0xC | 0x14 => at.plain(4),
        1 | 2 | 0xA => at.plain(2),
        0xD => at.secrel7(),
        _ => None,
    }
}

/// `IMAGE_REL_ARM64_*`: data fields, and the immediates of branch, `ADRP`/`ADR`, `ADD` and
/// `LDR`/`STR` instructions.
fn arm64_field(typ: u16, at: At<'_>) -> Option<Field> {
    let v = at.read(4);
    match typ {
        1 | 2 | 8 | 0xC | 0x11 => at.plain(4),
        0xE => at.plain(8),
        0xD => at.plain(2),
        // BRANCH26
        3 => Field::insn(0x03ff_ffff, sext(v? & 0x03ff_ffff, 26) * 4),
        // PAGEBASE_REL21, REL21: immlo (bits 29–30), immhi (bits 5–23)
        4 | 5 => {
            let v = v?;
            let imm = ((v >> 29) & 3) | (((v >> 5) & 0x7_ffff) << 2);
            Field::insn((3 << 29) | (0x7_ffff << 5), sext(imm, 21))
        }
        // PAGEOFFSET_12A, SECREL_LOW12A, SECREL_HIGH12A: imm12 of ADD
        6 | 9 | 0xA => Field::insn(0xfff << 10, ((v? >> 10) & 0xfff) as i64),
        // PAGEOFFSET_12L, SECREL_LOW12L: imm12 of LDR/STR, scaled by the access size
        7 | 0xB => {
            let v = v?;
            let mut size = v >> 30;
            if v & 0x0480_0000 == 0x0480_0000 {
                size += 4;
            }
            Field::insn(0xfff << 10, (((v >> 10) & 0xfff) << size) as i64)
        }
        // BRANCH19
        0xF => Field::insn(0x7_ffff << 5, sext((v? >> 5) & 0x7_ffff, 19) * 4),
        // BRANCH14
        0x10 => Field::insn(0x3fff << 5, sext((v? >> 5) & 0x3fff, 14) * 4),
        _ => None,
    }
}

/// Where a relocation's field starts: a section's bytes and the relocation's offset.
#[derive(Clone, Copy)]
struct At<'d> {
    data: &'d [u8],
    offset: usize,
}

impl At<'_> {
    /// The `width` bytes at the offset, little-endian; `None` past the end of the section.
    fn read(self, width: usize) -> Option<u64> {
        let b = self
            .data
            .get(self.offset..self.offset.checked_add(width)?)?;
        Some(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
    }

    /// A whole little-endian integer of `width` bytes, holding a signed addend.
    fn plain(self, width: usize) -> Option<Field> {
        let v = self.read(width)?;
        let bits = 8 * width as u32;
        Some(Field {
            width,
            mask: if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            },
            addend: sext(v, bits),
        })
    }

    /// `SECREL7`: the low 7 bits of one byte.
    fn secrel7(self) -> Option<Field> {
        Some(Field {
            width: 1,
            mask: 0x7f,
            addend: (self.read(1)? & 0x7f) as i64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm64_fields_hold_their_addends() {
        let arm = pe::IMAGE_FILE_MACHINE_ARM64.0;
        // adrp x8, #0x1000 with immlo = 1, immhi = 0x400: addend 0x1001.
        let adrp: u32 = 0x9000_0008 | (1 << 29) | (0x400 << 5);
        let f = field(arm, 4, &adrp.to_le_bytes(), 0).unwrap();
        assert_eq!(f.addend, 0x1001);
        let mut b = adrp.to_le_bytes().to_vec();
        f.clear(&mut b, 0);
        assert_eq!(u32::from_le_bytes(b.try_into().unwrap()), 0x9000_0008);
        // ldr x0, [x8, #16]: imm12 = 2, 8-byte access.
        let ldr: u32 = 0xf940_0100 | (2 << 10);
        assert_eq!(field(arm, 7, &ldr.to_le_bytes(), 0).unwrap().addend, 16);
        // bl -4
        let bl: u32 = 0x97ff_ffff;
        assert_eq!(field(arm, 3, &bl.to_le_bytes(), 0).unwrap().addend, -4);
        // A field past the end is no field, not a panic.
        assert!(field(arm, 0xE, &[0; 4], 0).is_none());
    }
}
