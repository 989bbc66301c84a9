//! What a config adds to the default profile by numeric OID, with its own names (no MIB file is read):
//! `scalars` (each read with one GET, into the system record's `custom`) and `tables` (each column walked,
//! one `snmp.row/1` record per row).

use std::collections::HashSet;

use serde::Deserialize;

use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::sources::snmp::wire::Oid;

/// `{ name = "cpu5min", oid = "1.3.6.1.4.1.9.9.109.1.1.1.1.8.1" }`: a scalar (its instance, with the `.0`
/// of a true scalar) or a table's column.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedOidFile {
    /// The name records give it.
    pub name: Option<String>,
    /// Dotted numbers.
    pub oid: Option<String>,
}

/// `{ name = "cpu", columns = [...] }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableFile {
    /// The table's name in its records (`table`).
    pub name: Option<String>,
    /// The columns to walk (their OIDs without an instance).
    pub columns: Option<Vec<NamedOidFile>>,
}

/// A validated scalar or column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedOid {
    pub name: String,
    pub oid: Oid,
}

/// A validated table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableConfig {
    pub name: String,
    pub columns: Vec<NamedOid>,
}

/// `scalars`: each named once.
pub fn scalars(
    validation: &Validation<'_>,
    at: &At,
    files: Option<&[NamedOidFile]>,
) -> Result<Vec<NamedOid>, ConfigError> {
    named_oids(validation, at, "scalars", files.unwrap_or_default())
}

/// `tables`: each named once, each with at least one column, its columns named once.
pub fn tables(
    validation: &Validation<'_>,
    at: &At,
    files: Option<&[TableFile]>,
) -> Result<Vec<TableConfig>, ConfigError> {
    let mut names = HashSet::new();
    let mut tables = Vec::new();
    for (index, file) in files.unwrap_or_default().iter().enumerate() {
        let path = format!("tables[{index}]");
        let name = name(validation, at, &path, file.name.as_deref(), &mut names)?;
        let columns = match file.columns.as_deref() {
            Some(columns) if !columns.is_empty() => {
                named_oids(validation, at, &format!("{path}.columns"), columns)?
            }
            _ => {
                let reason = "required: one or more { name, oid } to walk";
                return Err(validation.invalid(at.key(&format!("{path}.columns")), reason));
            }
        };
        tables.push(TableConfig { name, columns });
    }
    Ok(tables)
}

/// A list of `{ name, oid }`, at `list` (`scalars`, `tables[0].columns`).
fn named_oids(
    validation: &Validation<'_>,
    at: &At,
    list: &str,
    files: &[NamedOidFile],
) -> Result<Vec<NamedOid>, ConfigError> {
    let mut names = HashSet::new();
    let mut named = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let path = format!("{list}[{index}]");
        let name = name(validation, at, &path, file.name.as_deref(), &mut names)?;
        let oid = oid(validation, at, &path, file.oid.as_deref())?;
        named.push(NamedOid { name, oid });
    }
    Ok(named)
}

/// `PATH.name`: required, letters, digits, `_`, `-` or `.`, unused in its list.
fn name(
    validation: &Validation<'_>,
    at: &At,
    path: &str,
    name: Option<&str>,
    names: &mut HashSet<String>,
) -> Result<String, ConfigError> {
    let key = at.key(&format!("{path}.name"));
    let Some(name) = name.filter(|name| !name.is_empty()) else {
        return Err(validation.invalid(key, "required: the name records give it"));
    };
    let allowed = |character: char| character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.');
    if !name.chars().all(allowed) {
        return Err(validation.invalid(key, format!("{name:?}: use letters, digits, '_', '-' or '.'")));
    }
    if !names.insert(name.to_owned()) {
        return Err(validation.invalid(key, format!("{name:?} is used twice in this list")));
    }
    Ok(name.to_owned())
}

/// `PATH.oid`: required, numeric.
fn oid(validation: &Validation<'_>, at: &At, path: &str, text: Option<&str>) -> Result<Oid, ConfigError> {
    let key = at.key(&format!("{path}.oid"));
    let Some(text) = text else {
        return Err(validation.invalid(key, "required: the numeric OID (1.3.6.1.4.1.9.9.109.1.1.1.1.8.1)"));
    };
    text.parse().map_err(|error| {
        let reason =
            format!("{text:?}: {error}; write the OID as dotted numbers (1.3.6.1.4.1.9.9.109.1.1.1.1.8.1)");
        validation.invalid(key, reason)
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;

    const AT: At = At {
        section: "sources",
        kind: "snmp",
        index: 0,
        single: false,
    };

    #[derive(Deserialize)]
    struct Lists {
        scalars: Option<Vec<NamedOidFile>>,
        tables: Option<Vec<TableFile>>,
    }

    fn validate(text: &str) -> Result<(Vec<NamedOid>, Vec<TableConfig>), String> {
        let lists: Lists = toml::from_str(text).map_err(|error| error.to_string())?;
        let validation = Validation::new(Path::new("semaphore.toml"), Duration::from_secs(30));
        let scalars =
            scalars(&validation, &AT, lists.scalars.as_deref()).map_err(|error| error.to_string())?;
        let tables = tables(&validation, &AT, lists.tables.as_deref()).map_err(|error| error.to_string())?;
        Ok((scalars, tables))
    }

    #[test]
    fn scalars_and_tables_by_numeric_oid() {
        let (scalars, tables) = validate(
            r#"scalars = [{ name = "cpu5min", oid = "1.3.6.1.4.1.9.9.109.1.1.1.1.8.1" }]
               tables = [{ name = "cpu", columns = [
                   { name = "cpmCPUTotal5minRev", oid = ".1.3.6.1.4.1.9.9.109.1.1.1.1.8" },
                   { name = "cpmCPUTotalPhysicalIndex", oid = "1.3.6.1.4.1.9.9.109.1.1.1.1.2" },
               ] }]"#,
        )
        .unwrap();
        assert_eq!(scalars[0].name, "cpu5min");
        assert_eq!(scalars[0].oid.to_string(), "1.3.6.1.4.1.9.9.109.1.1.1.1.8.1");
        assert_eq!(tables[0].name, "cpu");
        assert_eq!(
            tables[0].columns[0].oid.to_string(),
            "1.3.6.1.4.1.9.9.109.1.1.1.1.8"
        );
        assert_eq!(tables[0].columns[1].name, "cpmCPUTotalPhysicalIndex");
        assert_eq!(validate("").unwrap(), (Vec::new(), Vec::new()));
    }

    #[test]
    fn each_mistake_names_its_key() {
        let cases = [
            (
                r#"scalars = [{ oid = "1.3.6.1" }]"#,
                "scalars[0].name",
                "required",
            ),
            (
                r#"scalars = [{ name = "a b", oid = "1.3.6.1" }]"#,
                "scalars[0].name",
                "letters",
            ),
            (
                r#"scalars = [{ name = "a", oid = "1.3.6.1" }, { name = "a", oid = "1.3.6.2" }]"#,
                "scalars[1].name",
                "used twice",
            ),
            (r#"scalars = [{ name = "a" }]"#, "scalars[0].oid", "required"),
            (
                r#"scalars = [{ name = "a", oid = "1.3.six" }]"#,
                "scalars[0].oid",
                "`six`",
            ),
            (
                r#"scalars = [{ name = "a", oid = "7.1" }]"#,
                "scalars[0].oid",
                "dotted numbers",
            ),
            (r#"tables = [{ name = "t" }]"#, "tables[0].columns", "required"),
            (
                r#"tables = [{ name = "t", columns = [] }]"#,
                "tables[0].columns",
                "required",
            ),
            (
                r#"tables = [{ name = "t", columns = [{ name = "c", oid = "x" }] }]"#,
                "tables[0].columns[0].oid",
                "\"x\"",
            ),
            (
                r#"tables = [{ name = "t", columns = [{ name = "c", oid = "1.3" }] },
                             { name = "t", columns = [{ name = "c", oid = "1.3" }] }]"#,
                "tables[1].name",
                "used twice",
            ),
        ];
        for (text, key, reason) in cases {
            let error = validate(text).unwrap_err();
            assert!(
                error.contains(&format!("sources.snmp[0].{key}")) && error.contains(reason),
                "{text}: {error}"
            );
        }
        let error = validate(r#"scalars = [{ name = "a", oid = "1.3", extra = 1 }]"#).unwrap_err();
        assert!(error.contains("unknown field `extra`"), "{error}");
    }
}
