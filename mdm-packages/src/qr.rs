//! The invitation link as a QR code (R-IN-2), as PNG and SVG.
//!
//! The payload is exactly the link's text (byte mode, UTF-8), error
//! correction level M (15 % of the symbol may be damaged — enough for a
//! printed or photographed code), with the standard four-module quiet zone.
//! A QR reader on any phone opens the same link the message's button does.

use std::io::Cursor;

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::error::{PackagesError, Result};
use crate::link::InvitationLink;

/// Default size of one module in PNG pixels.
pub const DEFAULT_MODULE_PX: u32 = 8;
/// Largest module size rendered: bounds the image of the largest QR version
/// (177 modules + quiet zone) to about 6000 × 6000 pixels.
pub const MAX_MODULE_PX: u32 = 32;

/// A QR code holding one invitation link.
#[derive(Clone)]
pub struct InvitationQr {
    payload: String,
    code: QrCode,
}

impl std::fmt::Debug for InvitationQr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "InvitationQr(version {:?}, {} modules)",
            self.code.version(),
            self.code.width()
        )
    }
}

impl InvitationQr {
    /// Encodes the link.
    ///
    /// # Errors
    /// [`PackagesError::QrCode`] if the link is too long for a QR code.
    pub fn new(link: &InvitationLink) -> Result<Self> {
        Self::from_text(&link.to_string())
    }

    /// Encodes any text (used for links built elsewhere, e.g. a store URL).
    ///
    /// # Errors
    /// [`PackagesError::QrCode`] if the text is too long for a QR code.
    pub fn from_text(payload: &str) -> Result<Self> {
        let code =
            QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).map_err(|e| {
                PackagesError::QrCode {
                    problem: format!("{} bytes do not fit: {e}", payload.len()),
                }
            })?;
        Ok(Self {
            payload: payload.to_owned(),
            code,
        })
    }

    /// The encoded text.
    #[must_use]
    pub fn payload(&self) -> &str {
        &self.payload
    }

    /// Modules per side, without the quiet zone.
    #[must_use]
    pub fn width(&self) -> usize {
        self.code.width()
    }

    /// A greyscale PNG, each module `module_px` pixels square (clamped to
    /// 1–[`MAX_MODULE_PX`]), quiet zone included.
    ///
    /// # Errors
    /// [`PackagesError::QrCode`] if the PNG encoder fails.
    pub fn to_png(&self, module_px: u32) -> Result<Vec<u8>> {
        let px = module_px.clamp(1, MAX_MODULE_PX);
        let image = self
            .code
            .render::<Luma<u8>>()
            .quiet_zone(true)
            .module_dimensions(px, px)
            .build();
        let mut out = Cursor::new(Vec::new());
        PngEncoder::new(&mut out)
            .write_image(
                image.as_raw(),
                image.width(),
                image.height(),
                ExtendedColorType::L8,
            )
            .map_err(|e| PackagesError::QrCode {
                problem: format!("PNG encoding failed: {e}"),
            })?;
        Ok(out.into_inner())
    }

    /// An SVG document, each module `module_px` user units square (clamped to
    /// 1–[`MAX_MODULE_PX`]), black on white, quiet zone included.
    #[must_use]
    pub fn to_svg(&self, module_px: u32) -> String {
        let px = module_px.clamp(1, MAX_MODULE_PX);
        self.code
            .render::<svg::Color<'_>>()
            .quiet_zone(true)
            .module_dimensions(px, px)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build()
    }

    /// The code as text, `#` for dark modules: a readable snapshot of the
    /// payload's layout.
    #[must_use]
    pub fn to_text(&self) -> String {
        self.code
            .render::<char>()
            .quiet_zone(false)
            .module_dimensions(1, 1)
            .dark_color('#')
            .light_color('.')
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::LinkBase;
    use crate::tools::run_tool;
    use mdm_model::InvitationToken;

    fn link() -> InvitationLink {
        LinkBase::parse("https://mdm.example.com")
            .unwrap()
            .link(InvitationToken::parse("owE8CCx17ckTWYw7qsGvoY92M_6PAUiWqy8acv-D2Lo").unwrap())
    }

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
        let qr = InvitationQr::new(&link()).unwrap();
        for px in [2, DEFAULT_MODULE_PX] {
            let png = qr.to_png(px).unwrap();
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
            if let Some(text) = zbar(&png, "png") {
                assert_eq!(text, link().to_string());
            }
        }
    }

    #[test]
    fn zbarimg_decodes_the_svg_back_to_the_link() {
        // zbarimg reads SVG only through an ImageMagick delegate that may be
        // absent, so Python's xml.etree parses the SVG and paints its
        // rectangles into a PGM, which zbarimg then decodes.
        let qr = InvitationQr::new(&link()).unwrap();
        let svg = qr.to_svg(4);
        assert!(svg.starts_with("<?xml"));
        let Some((ok, pgm, err)) = run_tool("python3", &["-c", SVG_TO_PGM], svg.as_bytes()) else {
            return;
        };
        assert!(ok, "python could not rasterise the SVG: {err}");
        if let Some(text) = zbar(pgm.as_bytes(), "pgm") {
            assert_eq!(text, link().to_string());
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
    fn payload_snapshot() {
        let qr = InvitationQr::new(&link()).unwrap();
        assert_eq!(qr.payload(), link().to_string());
        insta::assert_snapshot!(
            "qr_payload",
            format!("{}\n\n{}", qr.payload(), qr.to_text())
        );
    }

    #[test]
    fn images_are_deterministic() {
        let a = InvitationQr::new(&link()).unwrap();
        let b = InvitationQr::new(&link()).unwrap();
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
