//! Which organization a network id or serial belongs to, learned from responses, so calls on `/networks/...`
//! and `/devices/...` are charged to the right organization's budget.
//!
//! An organization can hold 50,000 devices: each organization id is kept once and shared by its entries.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Debug, Default)]
pub(crate) struct OrganizationIndex {
    of: HashMap<Box<str>, Arc<str>>,
    organizations: HashSet<Arc<str>>,
}

impl OrganizationIndex {
    pub(crate) fn remember(&mut self, id: &str, organization_id: &str) {
        if self.of.get(id).is_some_and(|known| &**known == organization_id) {
            return;
        }
        let organization = match self.organizations.get(organization_id) {
            Some(known) => known.clone(),
            None => {
                let organization: Arc<str> = organization_id.into();
                self.organizations.insert(organization.clone());
                organization
            }
        };
        self.of.insert(id.into(), organization);
    }

    pub(crate) fn get(&self, id: &str) -> Option<String> {
        self.of.get(id).map(|organization| organization.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_belongs_to_the_organization_last_seen_with_it() {
        let mut index = OrganizationIndex::default();
        assert_eq!(index.get("Q2AA"), None);
        index.remember("Q2AA", "1");
        index.remember("Q2BB", "1");
        index.remember("N_1", "2");
        assert_eq!(index.get("Q2AA").as_deref(), Some("1"));
        assert_eq!(index.get("N_1").as_deref(), Some("2"));
        // A device moved to another organization.
        index.remember("Q2AA", "2");
        assert_eq!(index.get("Q2AA").as_deref(), Some("2"));
        assert_eq!(index.organizations.len(), 2, "each organization id kept once");
        assert!(Arc::ptr_eq(&index.of["Q2AA"], &index.of["N_1"]));
    }
}
