//! The invitation link as a QR code (R-IN-2), as PNG and SVG.
//!
//! The payload is exactly the link's text (byte mode, UTF-8), error
//! correction level M (15 % of the symbol may be damaged — enough for a
//! printed or photographed code), with the standard four-module quiet zone.
//! A QR reader on any phone opens the same link the message's button does.

use std::fmt::Write as _;

use fast_qr::{ECL, QRBuilder};

use crate::error::{PackagesError, Result};

/// Pixels per module used when the caller has no preference.
pub const DEFAULT_MODULE_PX: u32 = 8;
/// Largest module size accepted (keeps images of reasonable size).
pub const MAX_MODULE_PX: u32 = 32;
/// Light modules around the code, as the QR specification asks.
const QUIET_ZONE: usize = 4;
/// The most bytes a QR code holds at error correction level M: version 40
/// in byte mode (ISO/IEC 18004, table 7). Any text up to this length fits,
/// whatever mode the encoder picks; a longer link (always byte mode, since
/// links have lower-case letters) does not.
pub const MAX_PAYLOAD_BYTES: usize = 2331;

/// An invitation link as a QR code (error correction level M), ready to be
/// written as PNG, SVG or text. The modules come from `fast_qr`, which
/// chooses the mask by the specification's penalty rules several times
/// faster than the `qrcode` crate — that choice dominated the cost of
/// composing a message.
#[derive(Clone)]
pub struct InvitationQr {
    payload: String,
    width: usize,
    /// Row-major, `true` for dark.
    dark: Vec<bool>,
}

impl std::fmt::Debug for InvitationQr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InvitationQr({} x {} modules)", self.width, self.width)
    }
}

impl InvitationQr {
    /// Whether `text` fits a QR code at level M, without encoding it.
    ///
    /// # Errors
    /// [`PackagesError::QrCode`] when it is longer than [`MAX_PAYLOAD_BYTES`].
    pub fn check_fits(text: &str) -> Result<()> {
        if text.len() > MAX_PAYLOAD_BYTES {
            return Err(PackagesError::QrCode {
                problem: format!(
                    "{} bytes do not fit (at most {MAX_PAYLOAD_BYTES} at level M)",
                    text.len()
                ),
            });
        }
        Ok(())
    }

    /// The QR code of any text.
    ///
    /// # Errors
    /// [`PackagesError::QrCode`] when the text does not fit a QR code.
    pub fn from_text(payload: &str) -> Result<Self> {
        let code = QRBuilder::new(payload.as_bytes())
            .ecl(ECL::M)
            .build()
            .map_err(|e| PackagesError::QrCode {
                problem: format!("{} bytes do not fit: {e}", payload.len()),
            })?;
        let width = code.size;
        let dark = (0..width)
            .flat_map(|row| code[row].iter().map(|m| m.value()).collect::<Vec<_>>())
            .collect();
        Ok(Self {
            payload: payload.to_owned(),
            width,
            dark,
        })
    }

    /// The encoded text.
    #[must_use]
    pub fn payload(&self) -> &str {
        &self.payload
    }

    /// Modules per side (without the quiet zone).
    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    fn is_dark(&self, row: usize, col: usize) -> bool {
        row < self.width
            && col < self.width
            && self
                .dark
                .get(row * self.width + col)
                .copied()
                .unwrap_or(false)
    }

    /// A black-and-white PNG (1 bit per pixel), `module_px` pixels per
    /// module (clamped to 1..=[`MAX_MODULE_PX`]), with the four-module quiet
    /// zone.
    ///
    /// # Errors
    /// [`PackagesError::QrCode`] if the PNG encoder fails.
    pub fn to_png(&self, module_px: u32) -> Result<Vec<u8>> {
        let px = module_px.clamp(1, MAX_MODULE_PX) as usize;
        let modules = self.width + 2 * QUIET_ZONE;
        let side = modules * px;
        // Bits packed most significant first; a set bit is white.
        let stride = side.div_ceil(8);
        let mut pixels = Vec::with_capacity(stride * side);
        let mut line = vec![0u8; stride];
        for row in 0..modules {
            let row = row.wrapping_sub(QUIET_ZONE);
            line.fill(0);
            let light = |m: usize| !self.is_dark(row, m.wrapping_sub(QUIET_ZONE));
            // Light modules come in runs: each run is one span of set bits.
            let mut module = 0;
            while module < modules {
                if !light(module) {
                    module += 1;
                    continue;
                }
                let start = module;
                while module < modules && light(module) {
                    module += 1;
                }
                set_bits(&mut line, start * px, module * px);
            }
            for _ in 0..px {
                pixels.extend_from_slice(&line);
            }
        }
        let failed = |e: png::EncodingError| PackagesError::QrCode {
            problem: format!("PNG encoding failed: {e}"),
        };
        let side = u32::try_from(side).map_err(|_| PackagesError::QrCode {
            problem: "image too large".to_owned(),
        })?;
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::Fast);
        // Each module row repeats `px` times: "Up" turns the repeats into zeros.
        encoder.set_filter(png::Filter::Up);
        let mut writer = encoder.write_header().map_err(failed)?;
        writer.write_image_data(&pixels).map_err(failed)?;
        writer.finish().map_err(failed)?;
        Ok(out)
    }

    /// An SVG document, `module_px` user units per module, black on white,
    /// with a four-module quiet zone; one path for all dark modules.
    #[must_use]
    pub fn to_svg(&self, module_px: u32) -> String {
        let px = module_px.clamp(1, MAX_MODULE_PX) as usize;
        let side = (self.width + 2 * QUIET_ZONE) * px;
        let mut path = String::new();
        for row in 0..self.width {
            for col in 0..self.width {
                if self.is_dark(row, col) {
                    let (x, y) = ((col + QUIET_ZONE) * px, (row + QUIET_ZONE) * px);
                    let _ = write!(path, "M{x} {y}h{px}v{px}H{x}V{y}");
                }
            }
        }
        format!(
            "<?xml version=\"1.0\" standalone=\"yes\"?><svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{side}\" height=\"{side}\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\"><rect x=\"0\" y=\"0\" width=\"{side}\" height=\"{side}\" fill=\"#ffffff\"/><path fill=\"#000000\" d=\"{path}\"/></svg>"
        )
    }

    /// The modules as text, `#` dark and `.` light, one line per row, no quiet zone.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut text = String::with_capacity((self.width + 1) * self.width);
        for row in 0..self.width {
            for col in 0..self.width {
                text.push(if self.is_dark(row, col) { '#' } else { '.' });
            }
            text.push('\n');
        }
        text
    }
}

/// Sets bits `from..to` of a row packed most significant bit first: a
/// partial byte at each end, whole bytes between.
fn set_bits(line: &mut [u8], from: usize, to: usize) {
    if from >= to {
        return;
    }
    let (first, last) = (from / 8, (to - 1) / 8);
    let head = 0xffu8 >> (from % 8);
    let tail = 0xffu8 << (7 - (to - 1) % 8);
    if first == last {
        if let Some(byte) = line.get_mut(first) {
            *byte |= head & tail;
        }
        return;
    }
    if let Some(byte) = line.get_mut(first) {
        *byte |= head;
    }
    if let Some(middle) = line.get_mut(first + 1..last) {
        middle.fill(0xff);
    }
    if let Some(byte) = line.get_mut(last) {
        *byte |= tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::run_tool;

    /// An invitation link as `LinkBase::link` writes one.
    const LINK: &str = "https://mdm.example.com/enroll/owE8CCx17ckTWYw7qsGvoY92M_6PAUiWqy8acv-D2Lo";

    /// Decodes an image with zbarimg (reading it from stdin).
    fn zbar(bytes: &[u8], kind: &str) -> Option<String> {
        let (ok, out, err) = run_tool(
            "zbarimg",
            &["--raw", "-q", "-Sbinary", &format!("{kind}:-")],
            bytes,
        )?;
        assert!(ok, "zbarimg could not decode the {kind} image: {err}");
        Some(out.trim_end_matches('\n').to_owned())
    }

    #[test]
    fn zbarimg_decodes_the_png_back_to_the_link() {
        let qr = InvitationQr::from_text(LINK).unwrap();
        for px in [2, DEFAULT_MODULE_PX] {
            let png = qr.to_png(px).unwrap();
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
            if let Some(text) = zbar(&png, "png") {
                assert_eq!(text, LINK);
            }
        }
    }

    #[test]
    fn zbarimg_decodes_the_svg_back_to_the_link() {
        // zbarimg reads SVG only through an ImageMagick delegate that may be
        // absent, so Python's xml.etree parses the SVG and paints its
        // rectangles into a PGM, which zbarimg then decodes.
        let qr = InvitationQr::from_text(LINK).unwrap();
        let svg = qr.to_svg(4);
        assert!(svg.starts_with("<?xml"));
        let Some((ok, pgm, err)) = run_tool("python3", &["-c", SVG_TO_PGM], svg.as_bytes()) else {
            return;
        };
        assert!(ok, "python could not rasterise the SVG: {err}");
        if let Some(text) = zbar(pgm.as_bytes(), "pgm") {
            assert_eq!(text, LINK);
        }
    }

    /// Parses the SVG with xml.etree (so it must be well-formed XML) and
    /// paints its `<rect>`s and path into a plain PGM.
    const SVG_TO_PGM: &str = r##"
import re, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
ns = "{http://www.w3.org/2000/svg}"
w, h = int(root.get("width")), int(root.get("height"))
img = [[255] * w for _ in range(h)]
for rect in root.iter(ns + "rect"):
    assert rect.get("fill") == "#ffffff" and rect.get("width") == str(w), rect.attrib
for path in root.iter(ns + "path"):
    assert path.get("fill") == "#000000", path.attrib
    d = path.get("d")
    rects = re.findall(r"M(\d+) (\d+)h(\d+)v(\d+)H\d+V\d+", d)
    assert re.sub(r"M(\d+) (\d+)h(\d+)v(\d+)H\d+V\d+", "", d) == "", "unexpected path commands"
    for x, y, dx, dy in rects:
        x, y, dx, dy = int(x), int(y), int(dx), int(dy)
        for yy in range(y, y + dy):
            for xx in range(x, x + dx):
                img[yy][xx] = 0
sys.stdout.write("P2\n%d %d\n255\n" % (w, h))
for row in img:
    sys.stdout.write(" ".join(map(str, row)) + "\n")
"##;

    #[test]
    fn the_capacity_check_agrees_with_the_encoder_at_the_boundary() {
        // Lower-case text is byte mode, the mode every link is encoded in.
        let fits = "x".repeat(MAX_PAYLOAD_BYTES);
        let too_long = "x".repeat(MAX_PAYLOAD_BYTES + 1);
        assert!(InvitationQr::check_fits(&fits).is_ok());
        assert_eq!(InvitationQr::from_text(&fits).unwrap().width(), 177);
        assert!(matches!(
            InvitationQr::check_fits(&too_long),
            Err(PackagesError::QrCode { .. })
        ));
        assert!(InvitationQr::from_text(&too_long).is_err());
    }

    #[test]
    fn the_png_is_one_bit_grayscale_with_the_quiet_zone() {
        let qr = InvitationQr::from_text(LINK).unwrap();
        let png = qr.to_png(3).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        let side = u32::try_from((qr.width() + 2 * QUIET_ZONE) * 3).unwrap();
        assert_eq!((info.width, info.height), (side, side));
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.bit_depth, png::BitDepth::One);
    }

    #[test]
    fn every_png_pixel_shows_its_module() {
        let qr = InvitationQr::from_text(LINK).unwrap();
        let modules = qr.width() + 2 * QUIET_ZONE;
        for px in [1usize, 3, 7, 8, 13] {
            let png = qr.to_png(u32::try_from(px).unwrap()).unwrap();
            let mut reader = png::Decoder::new(std::io::Cursor::new(png))
                .read_info()
                .unwrap();
            let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
            let frame = reader.next_frame(&mut pixels).unwrap();
            let side = modules * px;
            assert_eq!(frame.line_size, side.div_ceil(8));
            for y in 0..side {
                for x in 0..side {
                    let byte = pixels[y * frame.line_size + x / 8];
                    let white = byte & (0x80 >> (x % 8)) != 0;
                    let (row, col) = (
                        (y / px).wrapping_sub(QUIET_ZONE),
                        (x / px).wrapping_sub(QUIET_ZONE),
                    );
                    assert_eq!(white, !qr.is_dark(row, col), "px {px}, pixel ({x}, {y})");
                }
                // Padding bits after the last pixel of a row stay clear.
                if !side.is_multiple_of(8) {
                    let last = pixels[y * frame.line_size + frame.line_size - 1];
                    assert_eq!(last & (0xff >> (side % 8)), 0, "px {px}, row {y} padding");
                }
            }
        }
    }

    #[test]
    fn set_bits_sets_exactly_the_span() {
        for from in 0..24 {
            for to in from..=24 {
                let mut line = [0u8; 3];
                set_bits(&mut line, from, to);
                for bit in 0..24 {
                    let set = line[bit / 8] & (0x80 >> (bit % 8)) != 0;
                    assert_eq!(set, (from..to).contains(&bit), "{from}..{to}, bit {bit}");
                }
            }
        }
    }

    #[test]
    fn payload_snapshot() {
        let qr = InvitationQr::from_text(LINK).unwrap();
        assert_eq!(qr.payload(), LINK);
        insta::assert_snapshot!(
            "qr_payload",
            format!("{}\n\n{}", qr.payload(), qr.to_text())
        );
    }

    #[test]
    fn images_are_deterministic() {
        let a = InvitationQr::from_text(LINK).unwrap();
        let b = InvitationQr::from_text(LINK).unwrap();
        assert_eq!(a.to_png(4).unwrap(), b.to_png(4).unwrap());
        assert_eq!(a.to_svg(4), b.to_svg(4));
    }

    #[test]
    fn oversized_payloads_are_an_error() {
        assert!(matches!(
            InvitationQr::from_text(&"x".repeat(5000)),
            Err(PackagesError::QrCode { .. })
        ));
    }
}
