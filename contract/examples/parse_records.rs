//! What parsing the records of one open costs, natively (bench/scale, BENCHMARKS.md "Records read
//! per open"): Miniflare reports no CPU time per request, so the part of an open that reading
//! records takes is timed here, on the files a build wrote, for each way of reading them.
//!
//!   cargo run --release -p gatefold-contract --example parse_records -- <dist> <gallery> [<dist> <gallery>…]
//!
//! Prints, per gallery, microseconds per parse (median of 201 rounds of 50 parses): its whole
//! record (what every open parsed before shards carried links, and still what the owners' side
//! reads), the format an open now checks (from the record's first bytes), the images an image or
//! download request reads, and the link's token shard.
use gatefold_contract::manifest::{self, FORMAT_PREFIX_BYTES, GalleryRecord, MediaRecord, TokenShard, check_leading_format, read_record};
use std::time::Instant;

fn micros(mut parse: impl FnMut()) -> f64 {
    let mut rounds: Vec<f64> = (0..201)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..50 {
                parse();
            }
            started.elapsed().as_secs_f64() * 1e6 / 50.0
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    assert!(!args.is_empty() && args.len().is_multiple_of(2), "usage: parse_records <dist> <gallery> [<dist> <gallery>…]");
    for pair in args.chunks(2) {
        let (dist, gallery) = (&pair[0], &pair[1]);
        let file = |path: &str| std::fs::read_to_string(format!("{dist}/site{path}")).unwrap_or_else(|e| panic!("{dist}/site{path}: {e}"));
        let record = file(&manifest::gallery_record_path(gallery));
        let whole = read_record::<GalleryRecord>("record", &record).expect("a record of this version");
        let token = &whole.gallery.links.values().next().expect("a link").token;
        let shard = file(&manifest::token_shard_path(manifest::token_shard(token)));
        let row = [
            ("whole record", micros(|| drop(read_record::<GalleryRecord>("record", &record).unwrap()))),
            ("format (an open)", micros(|| check_leading_format("record", &record[..FORMAT_PREFIX_BYTES]).unwrap())),
            ("images (image, download)", micros(|| drop(read_record::<MediaRecord>("record", &record).unwrap()))),
            ("token shard", micros(|| drop(read_record::<TokenShard>("shard", &shard).unwrap()))),
        ];
        let cells: Vec<String> = row.iter().map(|(what, us)| format!("\"{what}\": {us:.2}")).collect();
        println!("{{\"dist\": \"{dist}\", \"gallery\": \"{gallery}\", \"record_bytes\": {}, \"shard_bytes\": {}, {}}}", record.len(), shard.len(), cells.join(", "));
    }
}
