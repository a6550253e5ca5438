//! Many hand-outs at once from one cold base directory: the template is made
//! once under contention, and every caller gets its own database.

use std::collections::HashSet;
use std::time::Duration;

use crate::support::{TestRoot, db};

const CALLERS: usize = 10;

#[test]
fn ten_parallel_handouts_are_distinct() {
    let t = TestRoot::new();
    let urls: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..CALLERS)
            .map(|_| {
                s.spawn(|| {
                    let out = t
                        .pgtmp(Vec::<&str>::new())
                        .timeout(Duration::from_secs(180))
                        .run();
                    out.assert_success();
                    out.one_line().to_string()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a hand-out thread panicked"))
            .collect()
    });
    let distinct: HashSet<&String> = urls.iter().collect();
    assert_eq!(distinct.len(), CALLERS, "URLs repeat: {urls:#?}");

    for (i, url) in urls.iter().enumerate() {
        let mut client = db::connect(url);
        db::execute(
            &mut client,
            &format!("create table whose (v int); insert into whose values ({i})"),
        );
    }
    for (i, url) in urls.iter().enumerate() {
        let mut client = db::connect(url);
        assert_eq!(
            db::text(&mut client, "select string_agg(v::text, ',') from whose"),
            i.to_string(),
            "{url}"
        );
    }
    let pids: HashSet<u32> = urls.iter().map(|u| t.instance(u).pid).collect();
    assert_eq!(pids.len(), CALLERS, "postmasters are shared");
}
