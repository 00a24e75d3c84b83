//! A writer thread: the ids it owns, its model of them, its random writes and
//! the reads of its own ids, which must match the model exactly.

use trawl_index::filter::{Condition, Filter, FilterLimits, MatchValue};
use trawl_index::{Collection, IndexError, PointId, PointWrite};

use crate::common::Rng;
use crate::world::{World, same_vector, version_of};
use crate::{Counts, TAGS, mix};

pub struct Writer<'a> {
    world: &'a World,
    c: &'a Collection,
    pub w: u64,
    rng: Rng,
    /// By local id: the live version, if any.
    state: Vec<Option<u64>>,
    /// By local id: the last version written (0: none).
    version: Vec<u64>,
    live: u64,
    op: usize,
}

impl<'a> Writer<'a> {
    pub fn new(world: &'a World, c: &'a Collection, w: u64) -> Self {
        let n = world.sc.ids_per_writer as usize;
        Self {
            world,
            c,
            w,
            rng: Rng(mix(world.seed ^ (0x3717 + w)) | 1),
            state: vec![None; n],
            version: vec![0; n],
            live: 0,
            op: 0,
        }
    }

    fn id(&self, local: u64) -> u64 {
        self.w * self.world.sc.ids_per_writer + local
    }

    /// `n` distinct local ids.
    fn pick(&mut self, n: u64) -> Vec<u64> {
        let mut picked = Vec::new();
        while (picked.len() as u64) < n {
            let l = self.rng.next() % self.world.sc.ids_per_writer;
            if !picked.contains(&l) {
                picked.push(l);
            }
        }
        picked
    }

    fn fail(&self, what: &str, message: String) {
        self.world.fail(format!(
            "writer {} op {} ({what}): {message}",
            self.w, self.op
        ));
    }

    /// Upserts a share of the ids before the threads start.
    pub fn preload(&mut self) {
        let locals = self.pick(self.world.sc.preload);
        for chunk in locals.chunks(1_000) {
            self.upsert(chunk);
        }
    }

    /// Runs the writer's operations; between them, waits for the searchers
    /// to keep pace.
    pub fn run(&mut self, counts: &Counts) {
        let floor = self.world.sc.ids_per_writer / 4;
        for op in 0..self.world.sc.ops_per_writer {
            self.world.pace(op);
            if self.world.stopped() {
                return;
            }
            self.op = op;
            let roll = self.rng.next() % 100;
            if roll < 60 || self.live <= floor {
                let n = 1 + self.rng.next() % 8;
                let locals = self.pick(n);
                self.upsert(&locals);
                Counts::add(&counts.upserts);
            } else if roll < 82 {
                let n = 1 + self.rng.next() % 6;
                let locals = self.pick(n);
                self.delete(locals);
                Counts::add(&counts.deletes);
            } else if roll < 84 {
                self.delete_by_filter();
                Counts::add(&counts.filter_deletes);
            } else {
                let n = 1 + self.rng.next() % 4;
                let locals = self.pick(n);
                self.read_back(&locals);
                Counts::add(&counts.writer_gets);
            }
        }
    }

    /// Upserts the ids `locals`, each at its next version, in one call.
    fn upsert(&mut self, locals: &[u64]) {
        let world = self.world;
        let mut writes = Vec::with_capacity(locals.len());
        let mut done = Vec::with_capacity(locals.len());
        for &l in locals {
            let id = self.id(l);
            let v = self.version[l as usize] + 1;
            self.version[l as usize] = v;
            world.begin(id, Some(v));
            writes.push(PointWrite {
                vectors: Default::default(),
                sparse: Default::default(),
                id: PointId::Num(id),
                vector: world.vector(id, v),
                payload: Some(world.payload(id, v)),
            });
            done.push((l, id, v));
        }
        match self.c.upsert(writes) {
            Ok(n) if n == locals.len() => {}
            other => {
                let written: Vec<(u64, u64)> = done.iter().map(|&(_, id, v)| (id, v)).collect();
                let what = format!("upsert of (id, version) {written:?}");
                return self.fail(&what, format!("answered {other:?}"));
            }
        }
        for (l, id, v) in done {
            world.acknowledge(id);
            if self.state[l as usize].replace(v).is_none() {
                self.live += 1;
            }
        }
    }

    /// Deletes `locals` by id (some absent, one perhaps listed twice).
    fn delete(&mut self, mut locals: Vec<u64>) {
        let present: Vec<u64> = locals
            .iter()
            .copied()
            .filter(|&l| self.state[l as usize].is_some())
            .collect();
        if self.rng.next().is_multiple_of(4) {
            locals.push(locals[0]);
        }
        let ids: Vec<PointId> = locals.iter().map(|&l| PointId::Num(self.id(l))).collect();
        let what = format!("delete of {ids:?}");
        self.deleted(&what, &present, |c| c.delete(&ids));
    }

    /// Deletes this writer's points with one `tag` by a filter.
    fn delete_by_filter(&mut self) {
        let tag = self.rng.next() % TAGS;
        let matching: Vec<u64> = (0..self.world.sc.ids_per_writer)
            .filter(|&l| {
                self.state[l as usize].is_some_and(|v| self.world.tag(self.id(l), v) == tag)
            })
            .collect();
        let is = |key: &str, value: u64| Condition::Match {
            key: key.into(),
            value: MatchValue::Integer(value as i64),
        };
        let filter = Filter {
            must: vec![is("w", self.w), is("tag", tag)],
            ..Filter::default()
        };
        let what = format!("delete by filter w = {} and tag = {tag}", self.w);
        self.deleted(&what, &matching, |c| {
            c.delete_by_filter(&filter, &FilterLimits::default())
        });
    }

    /// Runs a delete that must remove exactly `present` and answer their count.
    fn deleted(
        &mut self,
        what: &str,
        present: &[u64],
        call: impl FnOnce(&Collection) -> trawl_index::Result<usize>,
    ) {
        for &l in present {
            self.world.begin(self.id(l), None);
        }
        match call(self.c) {
            Ok(n) if n == present.len() => {}
            other => {
                let ids: Vec<u64> = present.iter().map(|&l| self.id(l)).collect();
                return self.fail(
                    what,
                    format!("answered {other:?}, the model has {ids:?} to delete"),
                );
            }
        }
        for &l in present {
            self.world.acknowledge(self.id(l));
            self.state[l as usize] = None;
            self.live -= 1;
        }
    }

    /// Reads back ids only this writer writes: they must match its model.
    fn read_back(&mut self, locals: &[u64]) {
        for &l in locals {
            let id = self.id(l);
            let got = self.c.get(&PointId::Num(id));
            let ok = match (&got, self.state[l as usize]) {
                (Ok((vector, payload)), Some(v)) => {
                    payload.as_ref() == Some(&self.world.payload(id, v))
                        && same_vector(vector, &self.world.stored(id, v))
                }
                (Err(IndexError::PointNotFound(_)), None) => true,
                _ => false,
            };
            if !ok {
                let want = self.state[l as usize].map_or("absent".into(), |v| format!("v{v}"));
                let got = match &got {
                    Ok((_, p)) => format!("version {:?}", version_of(p.as_ref())),
                    Err(e) => e.to_string(),
                };
                self.fail(
                    &format!("get of id {id}"),
                    format!(
                        "got {got}, the model has {want}; {}",
                        self.world.describe(id)
                    ),
                );
            }
        }
    }

    /// The live points as (id, version).
    pub fn model(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.state
            .iter()
            .enumerate()
            .filter_map(|(l, v)| v.map(|v| (self.id(l as u64), v)))
    }
}
