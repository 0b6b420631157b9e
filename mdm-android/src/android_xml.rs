//! Reading and writing Android's source XML (restrictions, resources, manifests)
//! with quick-xml: the `android:` namespace resolved properly, entity
//! references decoded, depth bounded, and every failure an [`AndroidError`].

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer, XmlVersion};

use crate::AndroidError;

/// The namespace of `android:` attributes.
pub const ANDROID_NS: &str = "http://schemas.android.com/apk/res/android";

/// Deepest element nesting we read; deeper input is refused, not recursed into.
const MAX_DEPTH: usize = 64;

/// An attribute with its namespace resolved.
#[derive(Debug, Clone)]
pub(crate) struct Attribute {
    /// Bound to [`ANDROID_NS`] (whatever the prefix).
    pub android: bool,
    /// Local name.
    pub name: String,
    /// Normalised, unescaped value.
    pub value: String,
}

/// A start tag.
#[derive(Debug, Clone)]
pub(crate) struct Element {
    /// Local name of the element.
    pub name: String,
    /// Its attributes in document order.
    pub attributes: Vec<Attribute>,
    /// `<x/>`: no children and no matching [`Node::Close`].
    pub empty: bool,
}

impl Element {
    /// The value of `android:{name}`.
    pub fn android(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.android && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// The value of an un-namespaced attribute.
    pub fn plain(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| !a.android && a.name == name && !a.name.contains(':'))
            .map(|a| a.value.as_str())
    }
}

/// What the reader yields.
#[derive(Debug)]
pub(crate) enum Node {
    /// A start tag or an empty element.
    Open(Element),
    /// An end tag (its local name).
    Close(String),
    /// Character data (already unescaped; may come in several pieces).
    Text(String),
    /// End of input.
    End,
}

/// A pull reader over one document.
pub(crate) struct XmlReader<'a> {
    reader: NsReader<&'a [u8]>,
    document: &'static str,
    depth: usize,
}

impl<'a> XmlReader<'a> {
    pub fn new(text: &'a str, document: &'static str) -> Self {
        let mut reader = NsReader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = true;
        Self {
            reader,
            document,
            depth: 0,
        }
    }

    /// An error at the current position.
    pub fn error(&self, reason: impl Into<String>) -> AndroidError {
        AndroidError::MalformedXml {
            document: self.document,
            position: self.reader.buffer_position(),
            reason: reason.into(),
        }
    }

    /// The next node; comments, processing instructions, the declaration and
    /// whitespace-only text are skipped.
    pub fn next_node(&mut self) -> Result<Node, AndroidError> {
        loop {
            let event = self
                .reader
                .read_event()
                .map_err(|e| self.error(e.to_string()))?;
            match event {
                Event::Start(start) | Event::Empty(start) if self.depth >= MAX_DEPTH => {
                    let _ = start;
                    return Err(self.error(format!("elements nest deeper than {MAX_DEPTH}")));
                }
                Event::Start(start) => {
                    self.depth += 1;
                    return Ok(Node::Open(self.element(&start, false)?));
                }
                Event::Empty(start) => {
                    return Ok(Node::Open(self.element(&start, true)?));
                }
                Event::End(end) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Node::Close(local_name(&end)));
                }
                Event::Text(text) => {
                    let content = text.xml_content(XmlVersion::Implicit1_0);
                    if !content.trim().is_empty() {
                        return Ok(Node::Text(content.into_owned()));
                    }
                }
                Event::CData(data) => {
                    let content = data.xml_content(XmlVersion::Implicit1_0).into_owned();
                    return Ok(Node::Text(content));
                }
                Event::GeneralRef(reference) => {
                    if let Some(c) = reference
                        .resolve_char_ref()
                        .map_err(|e| self.error(e.to_string()))?
                    {
                        return Ok(Node::Text(c.to_string()));
                    }
                    let name = reference.xml_content(XmlVersion::Implicit1_0);
                    let text = match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "apos" => "'",
                        "quot" => "\"",
                        other => return Err(self.error(format!("unknown entity &{other};"))),
                    };
                    return Ok(Node::Text(text.to_owned()));
                }
                Event::DocType(_) => {
                    return Err(self.error("DOCTYPE declarations are not accepted"));
                }
                Event::Eof => {
                    if self.depth != 0 {
                        return Err(self.error("the document ends inside an element"));
                    }
                    return Ok(Node::End);
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            }
        }
    }

    fn element(&self, start: &BytesStart<'_>, empty: bool) -> Result<Element, AndroidError> {
        let name = start.local_name().as_ref().to_owned();
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| self.error(format!("in <{name}>: {e}")))?;
            let key = attribute.key;
            if key.as_ref() == "xmlns" || key.as_ref().starts_with("xmlns:") {
                continue;
            }
            let (namespace, local) = self.reader.resolver().resolve_attribute(key);
            let android = match namespace {
                ResolveResult::Bound(ns) => ns.as_ref() == ANDROID_NS,
                ResolveResult::Unbound => false,
                ResolveResult::Unknown(prefix) => {
                    return Err(self.error(format!(
                        "in <{name}>: undeclared namespace prefix {prefix:?}"
                    )));
                }
            };
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| self.error(format!("in <{name}>: {e}")))?
                .into_owned();
            let local = local.as_ref().to_owned();
            let prefixed = !android && key.prefix().is_some();
            attributes.push(Attribute {
                android,
                // Keep a foreign prefix visible so `plain()` does not match `tools:x`.
                name: if prefixed {
                    key.as_ref().to_owned()
                } else {
                    local
                },
                value,
            });
        }
        Ok(Element {
            name,
            attributes,
            empty,
        })
    }

    /// The document's root element (text before it is an error).
    pub fn root_element(&mut self) -> Result<Element, AndroidError> {
        match self.next_node()? {
            Node::Open(element) => Ok(element),
            Node::Text(_) => Err(self.error("text before the root element")),
            Node::Close(_) | Node::End => Err(self.error("no root element")),
        }
    }

    /// Reads the text content up to the close tag of the element just opened.
    pub fn text_until_close(&mut self, element: &str) -> Result<String, AndroidError> {
        let mut text = String::new();
        loop {
            match self.next_node()? {
                Node::Text(piece) => text.push_str(&piece),
                Node::Close(name) if name == element => return Ok(text),
                Node::Close(name) => return Err(self.error(format!("unexpected </{name}>"))),
                Node::Open(child) => {
                    return Err(
                        self.error(format!("unexpected <{}> inside <{element}>", child.name))
                    );
                }
                Node::End => return Err(self.error(format!("<{element}> is not closed"))),
            }
        }
    }

    /// Skips everything up to the close tag of `element` (which was just opened).
    pub fn skip_element(&mut self, element: &Element) -> Result<(), AndroidError> {
        if element.empty {
            return Ok(());
        }
        let mut depth = 1usize;
        loop {
            match self.next_node()? {
                Node::Open(child) if !child.empty => depth += 1,
                Node::Close(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Node::End => return Err(self.error(format!("<{}> is not closed", element.name))),
                Node::Open(_) | Node::Text(_) => {}
            }
        }
    }
}

fn local_name(end: &BytesEnd<'_>) -> String {
    end.local_name().as_ref().to_owned()
}

/// Writes indented XML into a string. Attribute values and text are escaped
/// by quick-xml.
pub(crate) struct XmlWriter {
    writer: Writer<Vec<u8>>,
}

impl XmlWriter {
    /// A document that starts with `<?xml version="1.0" encoding="utf-8"?>`.
    pub fn new() -> Self {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 4);
        // Writing into a Vec cannot fail.
        let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
        Self { writer }
    }

    fn start(name: &str, attributes: &[(&str, &str)]) -> BytesStart<'static> {
        let mut start = BytesStart::new(name.to_owned());
        for (key, value) in attributes {
            start.push_attribute((*key, *value));
        }
        start
    }

    /// `<name attrs>`.
    pub fn open(&mut self, name: &str, attributes: &[(&str, &str)]) {
        let _ = self
            .writer
            .write_event(Event::Start(Self::start(name, attributes)));
    }

    /// `<name attrs/>`.
    pub fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) {
        let _ = self
            .writer
            .write_event(Event::Empty(Self::start(name, attributes)));
    }

    /// `</name>`.
    pub fn close(&mut self, name: &str) {
        let _ = self
            .writer
            .write_event(Event::End(BytesEnd::new(name.to_owned())));
    }

    /// `<name attrs>text</name>`.
    pub fn text_element(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) {
        let _ = self
            .writer
            .create_element(name)
            .with_attributes(attributes.iter().copied())
            .write_text_content(BytesText::new(text));
    }

    /// The document, with a final newline.
    pub fn finish(self) -> Result<String, AndroidError> {
        let mut bytes = self.writer.into_inner();
        bytes.push(b'\n');
        String::from_utf8(bytes).map_err(|e| AndroidError::Render {
            reason: format!("XML writer produced invalid UTF-8: {e}"),
        })
    }
}

/// A file of `shared/vectors/android/`, or `None` when the vectors are not
/// checked out (which fails in CI).
#[cfg(test)]
pub(crate) fn vector(name: &str) -> Option<String> {
    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/android/");
    let text = std::fs::read_to_string(format!("{VECTORS}{name}")).ok();
    if text.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "shared vectors missing in CI"
        );
    }
    text
}

/// Runs `python3 -c script` with `input` on stdin and returns its stdout.
/// `None` when python3 is missing and `CI` is not `true`; a panic when it is
/// missing in CI or the script fails, so a check cannot silently pass.
#[cfg(test)]
pub(crate) fn python3(script: &str, input: &str) -> Option<String> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "python3 is required in CI: {e}"
            );
            eprintln!("skipping a python3 check: python3 not found ({e})");
            return None;
        }
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to python3");
    let output = child.wait_with_output().expect("python3 output");
    assert!(
        output.status.success(),
        "python3 refused our output: {}\n{input}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs Python's `xml.etree.ElementTree` on `xml` and returns the root's tag
/// (`{namespace}local` or `local`) and the element count, one per line.
#[cfg(test)]
pub(crate) fn python_etree_root(xml: &str) -> Option<String> {
    python3(
        "import sys, xml.etree.ElementTree as ET\n\
         root = ET.fromstring(sys.stdin.buffer.read())\n\
         print(root.tag)\n\
         print(sum(1 for _ in root.iter()))\n",
        xml,
    )
}
