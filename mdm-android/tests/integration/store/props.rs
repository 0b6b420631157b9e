//! The queue as a state machine (proptest): random enqueues, results
//! (known, repeated, unknown ids; done or failed) and restarts, on every
//! backend, against a reference model of the rules — commands are
//! delivered in id order until their result arrives, ids are never reused,
//! the last `K` finished commands are kept per device.

use std::collections::VecDeque;

use mdm_android::{AgentCommandKind, AgentCommandResult, AgentCommandStatus};
use mdm_model::storage::Retention;
use proptest::prelude::*;

use super::backends;
use super::fixture::{NOW, Server};

const KEEP: usize = 3;
const RETENTION: Retention = Retention {
    finished_per_device: KEEP,
};

#[derive(Debug, Clone)]
enum Op {
    Enqueue(usize, AgentCommandKind),
    Report(usize, usize, bool),
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, prop::sample::select(vec![
            AgentCommandKind::Lock,
            AgentCommandKind::Locate,
            AgentCommandKind::ScanNow,
        ]))
            .prop_map(|(d, k)| Op::Enqueue(d, k)),
        4 => (0..2usize, 0..4usize, any::<bool>()).prop_map(|(d, i, ok)| Op::Report(d, i, ok)),
        1 => Just(Op::Restart),
    ]
}

#[derive(Default)]
struct Reference {
    next_id: u64,
    pending: [Vec<u64>; 2],
    finished: [VecDeque<u64>; 2],
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn the_queue_follows_its_rules_on_every_backend(ops in prop::collection::vec(op(), 1..24)) {
        for b in backends::all("props") {
            let name = b.name();
            let mut s = Server::start(&b, RETENTION);
            s.sync(0, vec![], NOW).unwrap();
            s.sync(1, vec![], NOW).unwrap();
            let mut model = Reference::default();
            for op in &ops {
                match *op {
                    Op::Enqueue(d, kind) => {
                        let device = s.devices[d];
                        let id = s.endpoint.commands.enqueue(&s.ws, device, kind, NOW).unwrap();
                        model.next_id += 1;
                        prop_assert_eq!(id, model.next_id, "{}", name);
                        model.pending[d].push(id);
                    }
                    Op::Report(d, i, ok) => {
                        // Index into the pending commands, or an id never pending now.
                        let id = model.pending[d].get(i).copied().unwrap_or(1000 + i as u64);
                        let result = AgentCommandResult {
                            id,
                            status: if ok { AgentCommandStatus::Done } else { AgentCommandStatus::Failed },
                            detail: (!ok).then(|| format!("failed {id}")),
                            location: None,
                        };
                        let answer = s.sync(d, vec![result], NOW).unwrap();
                        if let Some(p) = model.pending[d].iter().position(|&c| c == id) {
                            model.pending[d].remove(p);
                            model.finished[d].push_back(id);
                            while model.finished[d].len() > KEEP {
                                model.finished[d].pop_front();
                            }
                        }
                        let delivered: Vec<u64> = answer.commands.iter().map(|c| c.id).collect();
                        prop_assert_eq!(&delivered, &model.pending[d], "{}", name);
                    }
                    Op::Restart => s = s.restart(&b, RETENTION),
                }
                for d in 0..2 {
                    let pending: Vec<u64> =
                        s.endpoint.commands.pending(s.devices[d]).iter().map(|c| c.id).collect();
                    prop_assert_eq!(&pending, &model.pending[d], "{}", name);
                }
            }
            s = s.restart(&b, RETENTION);
            for d in 0..2 {
                let finished: Vec<u64> = s
                    .endpoint
                    .commands
                    .finished(s.devices[d])
                    .unwrap()
                    .iter()
                    .map(|c| c.command.id)
                    .collect();
                let want: Vec<u64> = model.finished[d].iter().copied().collect();
                prop_assert_eq!(finished, want, "{}", name);
            }
        }
    }
}
