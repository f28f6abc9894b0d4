//! Read speed (issue #11): a full scan with a literal line filter over a
//! page-cached day file (bytes/s), and a narrow time-range query (one minute
//! of a day) once the sparse index is built.
//!
//! `cargo bench -p logops-gateway --bench read`; `READ_BENCH_RECORDS` sets
//! the day file's size (default 2 000 000 records, ~330 MB).

use std::io::Write;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logops_gateway::read::filter::Filter;
use logops_gateway::read::logql::{parse, Query};
use logops_gateway::read::query::{self, Direction, LogRequest};
use logops_gateway::read::source::Store;
use logops_gateway::schema::Tenant;

const DAY_NS: i64 = 86_400_000_000_000;
/// 2026-03-01T00:00:00Z.
const DAY0: i64 = 1_772_323_200_000_000_000;

fn write_day(dir: &Path, records: usize) -> u64 {
    let path = dir.join("20260301.ndjson");
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
    let levels = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"];
    for i in 0..records {
        let t = (i as i64) * (DAY_NS / records as i64) / 1_000_000;
        let (h, m, s, ms) = (t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000);
        writeln!(
            f,
            r#"{{"ts":"2026-03-01T{h:02}:{m:02}:{s:02}.{ms:03}Z","level":"{}","msg":"GET /api/v1/orders/{} 200 in {} ms for u***@example.com","emitter":"json","scenario_id":"na","service":"orders","host":"web-{:02}","request_id":"{:016x}","latency_ms":{}}}"#,
            levels[i % levels.len()],
            i % 10_000,
            i % 500,
            i % 16,
            i as u64 * 2_654_435_761,
            i % 500
        )
        .unwrap();
    }
    f.flush().unwrap();
    std::fs::metadata(&path).unwrap().len()
}

fn filter(q: &str) -> Filter {
    let Ok(Query::Logs(l)) = parse(q) else {
        panic!("{q}")
    };
    Filter::new(&l).unwrap()
}

fn count(store: &Store, f: &Filter, range: (i64, i64), limit: usize) -> u64 {
    let req = LogRequest {
        filter: f,
        range,
        limit,
        direction: Direction::Forward,
        max_bytes: u64::MAX,
    };
    query::run(store, &Tenant::default(), &req, &mut |_| true)
        .unwrap()
        .matched
}

fn read(c: &mut Criterion) {
    let records: usize = std::env::var("READ_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let dir = tempfile::tempdir().unwrap();
    let bytes = write_day(dir.path(), records);
    let store = Store::new(dir.path().to_path_buf(), dir.path().join("archive"), None);
    let all = (i64::MIN, i64::MAX);
    let rare = filter(r#"{} |= "orders/9999 200 in 499 ms""#);
    // Warm the page cache and the index.
    assert!(count(&store, &rare, all, usize::MAX) > 0);

    let mut g = c.benchmark_group("read");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("full_scan_literal_filter", |b| {
        b.iter(|| count(&store, &rare, all, usize::MAX))
    });
    let label = filter(r#"{level="ERROR"} |= "orders/9999""#);
    g.bench_function("full_scan_label_and_literal", |b| {
        b.iter(|| count(&store, &label, all, usize::MAX))
    });
    g.finish();

    let mut g = c.benchmark_group("read_narrow");
    g.sample_size(20);
    let everything = filter("{}");
    let minute = (
        DAY0 + 12 * 3_600_000_000_000,
        DAY0 + 12 * 3_600_000_000_000 + 60_000_000_000,
    );
    let n = count(&store, &everything, minute, usize::MAX);
    assert!(n > 0 && n < records as u64 / 100, "{n}");
    g.bench_function("one_minute_of_a_day", |b| {
        b.iter(|| count(&store, &everything, minute, usize::MAX))
    });
    g.finish();
    eprintln!("day file: {records} records, {bytes} bytes; one minute = {n} records");
}

criterion_group!(benches, read);
criterion_main!(benches);
