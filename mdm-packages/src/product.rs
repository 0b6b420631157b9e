//! Product descriptions (R-AN-2): what a package is built from.
//!
//! The vendor's consoles build installation packages from a product
//! description file (`.kpd`) shipped with the distribution kit: it names the
//! product, its version, the platform and the files that make it up. Ours is
//! a small TOML document:
//!
//! ```toml
//! # Product description, format 1.
//! format = 1
//!
//! [product]
//! name = "Endpoint Agent for Android"   # shown to administrators and users
//! version = "10.4.2"                     # free-form, no whitespace
//! platform = "android"                   # "android", "ios" or "ipados"
//!
//! [[files]]                              # at least one; paths unique
//! path = "agent.apk"                     # relative, `/`-separated, no `..`
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! size = 4                               # optional, in bytes
//! ```
//!
//! Rules checked on reading, each reported with the field's dotted path and
//! its line and column: `format` must be `1`; `product.name` and
//! `product.version` non-empty (names up to 200 characters, versions up to 64
//! without whitespace); `platform` one of the three; `files` non-empty; each
//! `path` relative, made of non-empty segments other than `.` and `..`, up to
//! 255 bytes, unique; each `sha256` exactly 64 hex digits; an Android product
//! lists at least one `.apk`. Unknown keys are refused, so a typo is not
//! silently ignored.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use mdm_model::Platform;
use mdm_model::Sha256Digest;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{PackagesError, Result};

/// The format version this crate reads and writes.
pub const PRODUCT_FORMAT: u32 = 1;

/// The spelling of a platform in product descriptions and manifests:
/// `android`, `ios`, `ipados` (the same as `mdm-model`'s JSON form).
#[must_use]
pub fn platform_tag(platform: Platform) -> &'static str {
    match platform {
        Platform::Android => "android",
        Platform::IOs => "ios",
        Platform::IPadOs => "ipados",
    }
}

/// A relative, `/`-separated path of a file inside a product, already
/// checked: no empty, `.` or `..` segment, no backslash, no NUL, no leading
/// `/`, at most 255 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ProductPath(String);

impl ProductPath {
    /// Checks and wraps a path.
    ///
    /// # Errors
    /// A sentence saying what is wrong, for the caller to put in context.
    pub fn new(path: &str) -> std::result::Result<Self, String> {
        if path.is_empty() {
            return Err("is empty".to_owned());
        }
        if path.len() > 255 {
            return Err(format!("is {} bytes long, at most 255 allowed", path.len()));
        }
        if path.contains('\\') || path.contains('\0') {
            return Err("contains a backslash or NUL; use `/` to separate segments".to_owned());
        }
        if path.starts_with('/') {
            return Err("is absolute; paths are relative to the product".to_owned());
        }
        if let Some(bad) = path
            .split('/')
            .find(|s| s.is_empty() || *s == "." || *s == "..")
        {
            return Err(format!("has an empty, `.` or `..` segment (`{bad}`)"));
        }
        if path.chars().any(char::is_control) {
            return Err("contains a control character".to_owned());
        }
        Ok(Self(path.to_owned()))
    }

    /// The path text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment.
    #[must_use]
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for ProductPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One file of a product, with the digest its bytes must have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductFile {
    /// Where the file lives inside the product.
    pub path: ProductPath,
    /// SHA-256 of the file's bytes.
    pub sha256: Sha256Digest,
    /// Size in bytes, when the description gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl ProductFile {
    /// Checks `bytes` against this entry's digest (and size, when given).
    ///
    /// # Errors
    /// [`PackagesError::ProductFile`] naming the path on a mismatch.
    pub fn verify(&self, bytes: &[u8]) -> Result<()> {
        self.verify_digest(bytes.len() as u64, &Sha256Digest::of(bytes))
    }

    /// [`ProductFile::verify`] for bytes already measured: their size and
    /// SHA-256 (a package reader streams a file through the hash instead of
    /// holding it).
    ///
    /// # Errors
    /// [`PackagesError::ProductFile`] naming the path on a mismatch.
    pub fn verify_digest(&self, len: u64, actual: &Sha256Digest) -> Result<()> {
        if let Some(size) = self.size
            && len != size
        {
            return Err(PackagesError::ProductFile {
                path: self.path.to_string(),
                problem: format!("description says {size} bytes, got {len}"),
            });
        }
        if *actual != self.sha256 {
            return Err(PackagesError::ProductFile {
                path: self.path.to_string(),
                problem: format!("SHA-256 is {actual}, description says {}", self.sha256),
            });
        }
        Ok(())
    }
}

/// A checked product description: the input a standalone package is built
/// from (R-AN-2).
///
/// Built either by [`ProductDescription::from_toml`] or by
/// [`ProductDescription::new`]; both apply the same rules, so a value of this
/// type always satisfies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDescription {
    name: String,
    version: String,
    platform: Platform,
    files: Vec<ProductFile>,
}

impl ProductDescription {
    /// Longest TOML text [`ProductDescription::from_toml`] reads: a
    /// description lists a handful of files (a package holds at most
    /// [`crate::PackageLimits::max_entries`]); the TOML reader allocates
    /// tens of times its input, so the input is bounded first.
    pub const MAX_TOML_BYTES: usize = 256 * 1024;

    /// Builds a description from parts, applying the rules of the format.
    ///
    /// # Errors
    /// [`PackagesError::ProductField`] (line and column 0: there is no file)
    /// naming the first field that breaks a rule.
    pub fn new(
        name: &str,
        version: &str,
        platform: Platform,
        files: Vec<ProductFile>,
    ) -> Result<Self> {
        let no_span = |field: String, problem: String| PackagesError::ProductField {
            field,
            line: 0,
            column: 0,
            problem,
        };
        check_name(name).map_err(|p| no_span("product.name".to_owned(), p))?;
        check_version(version).map_err(|p| no_span("product.version".to_owned(), p))?;
        check_files(platform, files.iter().map(|f| &f.path))
            .map_err(|(i, p)| no_span(files_field(i), p))?;
        Ok(Self {
            name: name.to_owned(),
            version: version.to_owned(),
            platform,
            files,
        })
    }

    /// Reads a description from TOML text, reporting the first problem with
    /// its line, column and field.
    ///
    /// # Errors
    /// [`PackagesError::ProductSyntax`] for malformed TOML, a value of the
    /// wrong type or a text over [`Self::MAX_TOML_BYTES`];
    /// [`PackagesError::ProductField`] for a rule of the format.
    pub fn from_toml(text: &str) -> Result<Self> {
        if text.len() > ProductDescription::MAX_TOML_BYTES {
            return Err(PackagesError::ProductSyntax {
                line: 1,
                column: 1,
                message: format!(
                    "{} bytes; a product description is at most {} bytes",
                    text.len(),
                    ProductDescription::MAX_TOML_BYTES
                ),
            });
        }
        let raw: RawDescription = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |span| line_column(text, span.start));
            PackagesError::ProductSyntax {
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        })?;
        let field = |name: &str, span: Range<usize>, problem: String| {
            let (line, column) = line_column(text, span.start);
            PackagesError::ProductField {
                field: name.to_owned(),
                line,
                column,
                problem,
            }
        };

        if *raw.format.get_ref() != i64::from(PRODUCT_FORMAT) {
            return Err(field(
                "format",
                raw.format.span(),
                format!(
                    "format {} is not supported; this reader knows format {PRODUCT_FORMAT}",
                    raw.format.get_ref()
                ),
            ));
        }
        let product = raw.product.get_ref();
        check_name(product.name.get_ref())
            .map_err(|p| field("product.name", product.name.span(), p))?;
        check_version(product.version.get_ref())
            .map_err(|p| field("product.version", product.version.span(), p))?;
        let platform = match product.platform.get_ref().as_str() {
            "android" => Platform::Android,
            "ios" => Platform::IOs,
            "ipados" => Platform::IPadOs,
            other => {
                return Err(field(
                    "product.platform",
                    product.platform.span(),
                    format!(
                        "`{other}` is not a platform; expected \"android\", \"ios\" or \"ipados\""
                    ),
                ));
            }
        };

        let mut files = Vec::with_capacity(raw.files.get_ref().len());
        for (i, file) in raw.files.get_ref().iter().enumerate() {
            let path = ProductPath::new(file.path.get_ref())
                .map_err(|p| field(&format!("files[{i}].path"), file.path.span(), p))?;
            let digest_text = file.sha256.get_ref();
            let sha256 = Some(digest_text)
                .filter(|t| t.len() == 64)
                .and_then(|t| Sha256Digest::from_hex(t).ok())
                .ok_or_else(|| {
                    field(
                        &format!("files[{i}].sha256"),
                        file.sha256.span(),
                        "expected 64 hex digits of a SHA-256 digest".to_owned(),
                    )
                })?;
            let size = match &file.size {
                None => None,
                Some(size) => Some(u64::try_from(*size.get_ref()).map_err(|_| {
                    field(
                        &format!("files[{i}].size"),
                        size.span(),
                        format!("{} is negative", size.get_ref()),
                    )
                })?),
            };
            files.push(ProductFile { path, sha256, size });
        }
        check_files(platform, files.iter().map(|f| &f.path)).map_err(|(i, p)| {
            let span = raw
                .files
                .get_ref()
                .get(i)
                .map_or_else(|| raw.files.span(), |f| f.path.span());
            field(&files_field(i), span, p)
        })?;

        Ok(Self {
            name: product.name.get_ref().clone(),
            version: product.version.get_ref().clone(),
            platform,
            files,
        })
    }

    /// Writes the description in the documented TOML form; reading it back
    /// gives an equal value.
    #[must_use]
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "# Product description (R-AN-2).\nformat = {PRODUCT_FORMAT}\n\n[product]\nname = {}\nversion = {}\nplatform = \"{}\"\n",
            toml_string(&self.name),
            toml_string(&self.version),
            platform_tag(self.platform)
        );
        for file in &self.files {
            out.push_str(&format!(
                "\n[[files]]\npath = {}\nsha256 = \"{}\"\n",
                toml_string(file.path.as_str()),
                file.sha256
            ));
            if let Some(size) = file.size {
                out.push_str(&format!("size = {size}\n"));
            }
        }
        out
    }

    /// The product's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The product's version.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The platform the product installs on.
    #[must_use]
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The product's files, in the order of the description.
    #[must_use]
    pub fn files(&self) -> &[ProductFile] {
        &self.files
    }

    /// The file at `path`, if the description lists it.
    #[must_use]
    pub fn file(&self, path: &str) -> Option<&ProductFile> {
        self.files.iter().find(|f| f.path.as_str() == path)
    }
}

fn files_field(index: usize) -> String {
    if index == usize::MAX {
        "files".to_owned()
    } else {
        format!("files[{index}].path")
    }
}

fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.trim().is_empty() {
        return Err("is empty".to_owned());
    }
    if name.chars().count() > 200 {
        return Err("is longer than 200 characters".to_owned());
    }
    if name.chars().any(char::is_control) {
        return Err("contains a control character".to_owned());
    }
    Ok(())
}

fn check_version(version: &str) -> std::result::Result<(), String> {
    if version.is_empty() {
        return Err("is empty".to_owned());
    }
    if version.len() > 64 {
        return Err("is longer than 64 bytes".to_owned());
    }
    if version.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace or a control character".to_owned());
    }
    Ok(())
}

/// Checks the file list as a whole. On error, the index of the offending
/// file, or `usize::MAX` for the list itself.
fn check_files<'a>(
    platform: Platform,
    paths: impl Iterator<Item = &'a ProductPath>,
) -> std::result::Result<(), (usize, String)> {
    let mut seen = BTreeSet::new();
    let mut has_apk = false;
    let mut count = 0usize;
    for (i, path) in paths.enumerate() {
        count += 1;
        if !seen.insert(path.as_str()) {
            return Err((i, format!("`{path}` is listed twice")));
        }
        has_apk |= path.as_str().to_ascii_lowercase().ends_with(".apk");
    }
    if count == 0 {
        return Err((
            usize::MAX,
            "lists no file; a product has at least one".to_owned(),
        ));
    }
    if platform == Platform::Android && !has_apk {
        return Err((
            usize::MAX,
            "an Android product lists at least one `.apk` file".to_owned(),
        ));
    }
    Ok(())
}

/// 1-based line and character column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// A TOML basic string with every character that needs it escaped.
fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDescription {
    format: Spanned<i64>,
    product: Spanned<RawProduct>,
    files: Spanned<Vec<RawFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProduct {
    name: Spanned<String>,
    version: Spanned<String>,
    platform: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    path: Spanned<String>,
    sha256: Spanned<String>,
    size: Option<Spanned<i64>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GOOD: &str = r#"# Product description, format 1.
format = 1

[product]
name = "Endpoint Agent for Android"
version = "10.4.2"
platform = "android"

[[files]]
path = "agent.apk"
sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
size = 4

[[files]]
path = "docs/eula.txt"
sha256 = "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"
"#;

    #[test]
    fn reads_the_documented_example() {
        let d = ProductDescription::from_toml(GOOD).unwrap();
        assert_eq!(d.name(), "Endpoint Agent for Android");
        assert_eq!(d.version(), "10.4.2");
        assert_eq!(d.platform(), Platform::Android);
        assert_eq!(d.files().len(), 2);
        let apk = d.file("agent.apk").unwrap();
        assert_eq!(apk.size, Some(4));
        apk.verify(b"test").unwrap();
        assert_eq!(
            d.file("docs/eula.txt").unwrap().sha256,
            Sha256Digest::of(b"hello")
        );
    }

    #[test]
    fn round_trips_through_its_own_writer() {
        let d = ProductDescription::from_toml(GOOD).unwrap();
        let again = ProductDescription::from_toml(&d.to_toml()).unwrap();
        assert_eq!(d, again);
        let odd = ProductDescription::new(
            "Agent \"beta\" \\ テスト\u{7f}x".trim_end_matches("\u{7f}x"),
            "1.0-rc.1",
            Platform::Android,
            vec![ProductFile {
                path: ProductPath::new("a b/agent.APK").unwrap(),
                sha256: Sha256Digest::of(b""),
                size: None,
            }],
        )
        .unwrap();
        assert_eq!(ProductDescription::from_toml(&odd.to_toml()).unwrap(), odd);
    }

    fn field_error(text: &str) -> (String, usize, usize) {
        match ProductDescription::from_toml(text) {
            Err(PackagesError::ProductField {
                field,
                line,
                column,
                ..
            }) => (field, line, column),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn field_errors_name_the_field_and_its_position() {
        let bad_digest = GOOD.replace(
            "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
            "abc",
        );
        assert_eq!(
            field_error(&bad_digest),
            ("files[1].sha256".to_owned(), 16, 10)
        );

        let bad_platform = GOOD.replace("platform = \"android\"", "platform = \"symbian\"");
        assert_eq!(
            field_error(&bad_platform),
            ("product.platform".to_owned(), 7, 12)
        );

        let bad_path = GOOD.replace("docs/eula.txt", "../eula.txt");
        assert_eq!(field_error(&bad_path), ("files[1].path".to_owned(), 15, 8));

        let dup = GOOD.replace("docs/eula.txt", "agent.apk");
        assert_eq!(field_error(&dup), ("files[1].path".to_owned(), 15, 8));

        let empty_name = GOOD.replace("Endpoint Agent for Android", "  ");
        assert_eq!(field_error(&empty_name).0, "product.name");

        let future = GOOD.replace("format = 1", "format = 2");
        assert_eq!(field_error(&future), ("format".to_owned(), 2, 10));

        let no_apk = GOOD.replace("agent.apk", "agent.bin");
        assert_eq!(field_error(&no_apk).0, "files");

        let negative = GOOD.replace("size = 4", "size = -4");
        assert_eq!(field_error(&negative), ("files[0].size".to_owned(), 12, 8));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let broken = GOOD.replace("version = \"10.4.2\"", "version = 10.4.2.1");
        match ProductDescription::from_toml(&broken) {
            Err(PackagesError::ProductSyntax { line, .. }) => assert_eq!(line, 6),
            other => panic!("{other:?}"),
        }
        let typo = GOOD.replace("size = 4", "sise = 4");
        match ProductDescription::from_toml(&typo) {
            Err(PackagesError::ProductSyntax { line, message, .. }) => {
                assert_eq!(line, 12);
                assert!(message.contains("sise"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let missing = GOOD.replace("version = \"10.4.2\"\n", "");
        match ProductDescription::from_toml(&missing) {
            Err(PackagesError::ProductSyntax { message, .. }) => {
                assert!(message.contains("version"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn verify_reports_size_and_digest_mismatches() {
        let d = ProductDescription::from_toml(GOOD).unwrap();
        let apk = d.file("agent.apk").unwrap();
        assert!(matches!(
            apk.verify(b"tests"),
            Err(PackagesError::ProductFile { .. })
        ));
        assert!(matches!(
            apk.verify(b"TEST"),
            Err(PackagesError::ProductFile { .. })
        ));
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\nγδε", 7), (2, 3));
        assert_eq!(line_column("", 10), (1, 1));
        assert_eq!(line_column("é", 1), (1, 1));
    }

    proptest! {
        #[test]
        fn parser_never_panics_on_arbitrary_text(text in ".{0,400}") {
            let _ = ProductDescription::from_toml(&text);
        }

        #[test]
        fn parser_never_panics_on_mutated_descriptions(
            cut in 0usize..GOOD.len(),
            insert in "[\\[\\]=\"'#\n a-z0-9.\\-]{0,12}",
        ) {
            let mut text = GOOD.to_owned();
            let mut at = cut;
            while !text.is_char_boundary(at) { at -= 1; }
            text.insert_str(at, &insert);
            let _ = ProductDescription::from_toml(&text);
        }

        #[test]
        fn errors_point_inside_the_text(text in "[\\[\\]=\"#\na-z0-9.]{0,200}") {
            if let Err(PackagesError::ProductSyntax { line, .. } | PackagesError::ProductField { line, .. }) =
                ProductDescription::from_toml(&text)
            {
                prop_assert!(line >= 1 && line <= text.lines().count().max(1) + 1);
            }
        }
    }
}
