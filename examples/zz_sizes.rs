fn rss() -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let r: Vec<_> = s
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    format!("hwm {} rss {} KB", r[0], r[1])
}
fn main() {
    let path = std::env::args().nth(1).unwrap();
    println!("start   {}", rss());
    let zone = fedns::zone::load_zone_file(std::path::Path::new(&path)).unwrap();
    println!("loaded  {}", rss());
    let f = fedns::lint::offline_findings(&[&zone]);
    println!("linted  {} ({} findings)", rss(), f.len());
    let snap = fedns::snapshot::ZoneSnapshot::build(zone).unwrap();
    println!("built   {}", rss());
    std::hint::black_box(&snap);
}
