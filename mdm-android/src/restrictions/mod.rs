//! Managed configurations: the `<restrictions>` schema an app declares
//! (`res/xml/app_restrictions.xml`), the string resources it points to, and
//! checking a values bundle (AMAPI `managedConfiguration` JSON) against it.
//!
//! Type names, nesting rules and the JSON mapping follow `RestrictionsManager`
//! and the AMAPI `ManagedProperty` documentation: `bool` → JSON boolean,
//! `string`/`hidden`/`choice` → string, `integer` → number, `multi-select` →
//! array of strings, `bundle` → object, `bundle_array` → array of objects.

//!
//! One idea per file: the restriction types ([`RestrictionType`]), attribute
//! text ([`ResourceText`]), one `<restriction>` and its structural rules,
//! the schema document and its XML, the string resources it points to, key
//! paths for errors, and validation (a schema against its resources, a
//! values bundle against the schema).

mod key_path;
mod kind;
mod resources;
mod restriction;
mod schema;
mod text;
mod validate;

pub(crate) use key_path::KeyPath;
pub use kind::RestrictionType;
pub use resources::{ResourceValue, Resources};
pub use restriction::Restriction;
pub use schema::RestrictionSchema;
pub use text::ResourceText;
pub use validate::MAX_STRING_LEN;
