//! One build: its objects read ([`parse`]) and its functions and globals gathered by
//! [`Key`] across them ([`Build`]), so that the two builds pair up by name.

use super::object::Obj;
use super::report::{Error, Input, Side};
use super::{Global, Key, Place};
use std::collections::{BTreeMap, HashMap};

/// Parses every object of one build.
pub(super) fn parse<'a>(inputs: &[Input<'a>], side: Side) -> Result<Vec<Obj<'a>>, Error> {
    inputs
        .iter()
        .map(|i| Obj::new(i.name, i.data))
        .collect::<Result<_, _>>()
        .map_err(|e| match e {
            Error::Coff { object, source, .. } => Error::Coff {
                side,
                object,
                source,
            },
            Error::SharedSection {
                object,
                section,
                first,
                second,
                ..
            } => Error::SharedSection {
                side,
                object,
                section,
                first,
                second,
            },
            e => e,
        })
}

/// One build's functions and globals by [`Key`]. The first definition of a name wins, which is
/// the right one for COMDATs (inline functions, string literals) that several objects define.
pub(super) struct Build<'o, 'a> {
    pub(super) objects: &'o [Obj<'a>],
    pub(super) by_name: HashMap<&'a str, usize>,
    pub(super) functions: BTreeMap<Key<'o>, Place>,
    pub(super) globals: BTreeMap<Key<'o>, Global>,
}

impl<'o, 'a> Build<'o, 'a> {
    pub(super) fn new(objects: &'o [Obj<'a>]) -> Self {
        let mut functions = BTreeMap::new();
        let mut globals = BTreeMap::new();
        for (i, o) in objects.iter().enumerate() {
            for (key, place) in o.functions(i) {
                functions.entry(key).or_insert(place);
            }
            for (key, g) in o.globals(i) {
                globals.entry(key).or_insert(g);
            }
        }
        let by_name = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name, i))
            .collect();
        Build {
            objects,
            by_name,
            functions,
            globals,
        }
    }

    /// The object that defines the external `key`, function or global.
    pub(super) fn definition(&self, key: &Key<'o>) -> Option<usize> {
        self.functions
            .get(key)
            .map(|p| p.object)
            .or_else(|| self.globals.get(key).map(|g| g.object))
    }
}
