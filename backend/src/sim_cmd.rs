//! `kite sim`: runs the deterministic simulator over a range of seeds and prints one line per
//! seed with violations (and the command that replays it), then a summary; `--trace` prints each
//! run's whole event trace instead. `--host` runs the simulator over the server's own turn and
//! a disk that fails and loses power (`kite_shared::host_sim`) instead of the replication one.
//! `cargo xtask sim` runs it in release.

use std::ops::Range;

use kite_shared::replication::sim::{SimConfig, Unsafe, run, summary};

#[derive(clap::Args)]
pub(crate) struct SimArgs {
    /// Seeds to run, `A..B` (B excluded) or a single seed.
    #[arg(long, default_value = "0..100", value_parser = parse_seeds)]
    seeds: Range<u64>,
    /// Fault kinds the nemesis injects, comma-separated: `crash`, `partition` (isolate, cut off
    /// from the brokers, network partitions, flaky links), `pause`, `disk` (full, slow),
    /// `controller` (crash, pause, isolate, or cut a KRaft controller off from the others); or `none`.
    #[arg(long, default_value = "crash,partition,pause,disk,controller")]
    faults: String,
    /// KRaft controllers (quorum voters), 1 to 7.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=7))]
    controllers: u8,
    /// Simulated milliseconds of workload and faults, before healing and draining.
    #[arg(long, default_value_t = 10_000)]
    duration_ms: i64,
    /// Give up a guarantee: `unclean-election`, `min-isr-1`, `acks-1` or
    /// `commit-before-processing`; or plant a bug in the replicas' code: `planted-hw-off-by-one`,
    /// `planted-skipped-truncation`, or in the controller's: `reassign-before-catch-up` (with
    /// `--reassign`, on 4 brokers), `controller-no-quorum` (a controller acting before its
    /// metadata commits) (with `--host`: `lying-fsync`, a disk that ignores fsync;
    /// `skip-markers`, a transaction coordinator that commits without writing markers;
    /// `no-fencing`, one that never fences an older producer instance).
    #[arg(long)]
    r#unsafe: Option<String>,
    /// Brokers in the cluster (1 to 9; the topic's replication factor is min(3, brokers)).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=9))]
    brokers: u8,
    /// Most brokers faulty at once (the safe claim is for 1; more needs `--fsync`).
    #[arg(long)]
    max_faults: Option<usize>,
    /// Flush every append (crashes then lose nothing).
    #[arg(long)]
    fsync: bool,
    /// An admin moves partitions during the workload (AlterPartitionReassignments); needs more
    /// brokers than the replication factor: `--brokers 4`.
    #[arg(long)]
    reassign: bool,
    /// An admin adds brokers and decommissions others during the workload (add_broker,
    /// remove_broker): replicas move off a leaving broker before it is unregistered.
    #[arg(long)]
    membership: bool,
    /// Print each run's event trace.
    #[arg(long)]
    trace: bool,
    /// Simulate `kite serve` itself: requests through the host session, the cluster front on a
    /// disk whose writes fail and whose power goes, a clock that jumps, faults drawn per seed
    /// (`--unsafe lying-fsync` plants a disk that ignores fsync).
    #[arg(long)]
    host: bool,
    /// With `--host`: one broker's disk rots (at restarts, a flushed segment reads back with a
    /// byte flipped or a sector of zeros); with more than one broker, nothing acknowledged may
    /// be lost to it.
    #[arg(long)]
    rotting_disk: bool,
    /// With `--host` and several brokers: the server starts with `--racks` (two zones), at every
    /// restart too, and the healed cluster must still report each broker's rack.
    #[arg(long)]
    racks: bool,
    /// With `--host`: a consume-transform-produce application in transactions beside the
    /// workload, and the checker's exactly-once judgement of what it wrote.
    #[arg(long)]
    transactions: bool,
    /// With `--host`: a Kite Connect pipeline beside the workload (a file through a topic into
    /// another file and into a table), and the checker's at-least-once judgement of the sink's
    /// file and its check that the table holds a row per record of the topic.
    #[arg(long)]
    connect: bool,
    /// With `--host`: steps of workload and faults per seed.
    #[arg(long, default_value_t = kite_shared::host_sim::DEFAULT_STEPS)]
    steps: u32,
}

/// `kite sim --host`: the simulator over the server's turn.
fn run_host_sweep(args: &SimArgs) -> Result<bool, String> {
    use kite_shared::cluster::PlantedTxnBug;
    use kite_shared::host_sim::{HostSimConfig, run, summary};
    let (lying_fsync, planted_txn_bug) = match args.r#unsafe.as_deref() {
        None => (false, None),
        Some("lying-fsync") => (true, None),
        Some("skip-markers") => (false, Some(PlantedTxnBug::SkipMarkers)),
        Some("no-fencing") => (false, Some(PlantedTxnBug::NoFencing)),
        Some(other) => {
            return Err(format!(
                "unknown --unsafe {other:?} with --host; the planted faults are lying-fsync, skip-markers and no-fencing"
            ));
        }
    };
    let started = std::time::Instant::now();
    let (mut failing, mut acked, mut lost, mut rotted) = (0, 0, 0, 0);
    for seed in args.seeds.clone() {
        let mut config = HostSimConfig::new(seed, u32::from(args.brokers), args.fsync);
        config.steps = args.steps;
        config.controllers = u32::from(args.controllers);
        config.lying_fsync = lying_fsync;
        config.rotting_disk = args.rotting_disk;
        config.racks = args.racks;
        config.transactions = args.transactions;
        config.connect = args.connect;
        config.planted_txn_bug = planted_txn_bug;
        let result = run(&config);
        acked += result.acked;
        lost += result.lost_to_power_cuts;
        rotted += result.lost_to_rot;
        if args.trace {
            println!("{}", result.trace.join("\n"));
            for violation in &result.violations {
                println!("VIOLATION {violation}");
            }
        }
        if !result.violations.is_empty() {
            failing += 1;
            println!("FAIL {} — first: {}", summary(&config, &result), result.violations[0]);
        }
    }
    let seeds = args.seeds.end - args.seeds.start;
    println!(
        "sim --host: {seeds} seeds, {failing} with violations; {acked} acknowledged, {lost} lost to power cuts without fsync, {rotted} to a single broker's rot; {:.1} s wall",
        started.elapsed().as_secs_f64()
    );
    Ok(failing == 0)
}

fn parse_seeds(text: &str) -> Result<Range<u64>, String> {
    let number =
        |s: &str| s.trim().parse::<u64>().map_err(|_| format!("{s:?} is not a seed (a whole number)"));
    match text.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (number(a)?, number(b)?);
            if a >= b {
                return Err(format!("empty seed range {text}: the end is excluded"));
            }
            Ok(a..b)
        }
        None => number(text).map(|a| a..a + 1),
    }
}

pub(crate) fn run_sweep(args: SimArgs) -> Result<bool, String> {
    if args.host {
        return run_host_sweep(&args);
    }
    let setting = match &args.r#unsafe {
        None => None,
        Some(name) => Some(Unsafe::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Unsafe::ALL.iter().map(|u| u.name()).collect();
            format!("unknown --unsafe {name:?}; one of: {}", names.join(", "))
        })?),
    };
    const KINDS: [&str; 5] = ["crash", "partition", "pause", "disk", "controller"];
    let kinds: Vec<&str> = match args.faults.as_str() {
        "none" => Vec::new(),
        list => list.split(',').map(str::trim).collect(),
    };
    if let Some(bad) = kinds.iter().find(|k| !KINDS.contains(k)) {
        return Err(format!("unknown fault {bad:?} in --faults; use {} or none", KINDS.join(", ")));
    }
    let has = |kind: &str| kinds.contains(&kind);
    let (crash, partition, pause, disk) = (has("crash"), has("partition"), has("pause"), has("disk"));
    let started = std::time::Instant::now();
    let (mut failing, mut simulated_ms, mut acked, mut faults, mut violations) = (0, 0i64, 0, 0, 0);
    for seed in args.seeds.clone() {
        let mut config = SimConfig::safe(seed);
        if let Some(setting) = setting {
            config = config.with_unsafe(setting);
        }
        config.crash_faults = crash;
        config.partition_faults = partition;
        config.pause_faults = pause;
        config.disk_faults = disk;
        config.controller_faults = has("controller");
        config.controllers = usize::from(args.controllers);
        config.duration_ms = args.duration_ms;
        config.brokers = usize::from(args.brokers);
        config.replication_factor = config.replication_factor.min(config.brokers);
        config.min_insync_replicas = config.min_insync_replicas.min(config.replication_factor);
        if let Some(max) = args.max_faults {
            config.max_concurrent_faults = max;
        }
        config.flush_every_append |= args.fsync;
        config.reassignments |= args.reassign;
        config.membership |= args.membership;
        if config.reassignments && config.brokers <= config.replication_factor {
            return Err(format!(
                "moving replicas needs more brokers than the replication factor {}: add --brokers {}",
                config.replication_factor,
                config.replication_factor + 1
            ));
        }
        let result = run(&config);
        simulated_ms += result.stats.simulated_ms;
        acked += result.stats.acked;
        faults += result.stats.faults;
        violations += result.violations.len();
        if args.trace {
            print!("{}", result.trace.to_text());
            for violation in &result.violations {
                println!("VIOLATION {violation}");
            }
        }
        if !result.violations.is_empty() {
            failing += 1;
            let replay = replay_command(&args, seed);
            println!(
                "FAIL {} — first: {} — replay: {replay} --trace",
                summary(&config, &result),
                result.violations[0]
            );
        }
    }
    let seeds = args.seeds.end - args.seeds.start;
    println!(
        "sim: {seeds} seeds, {failing} with violations ({violations} violations); {} simulated s, {acked} acked writes, {faults} faults; {:.1} s wall, {:.0} seeds/s",
        simulated_ms / 1_000,
        started.elapsed().as_secs_f64(),
        seeds as f64 / started.elapsed().as_secs_f64()
    );
    Ok(failing == 0)
}

/// The command that runs `seed` again as this sweep ran it.
fn replay_command(args: &SimArgs, seed: u64) -> String {
    let mut replay = format!("cargo xtask sim --seeds {seed} --faults {}", args.faults);
    if let Some(name) = &args.r#unsafe {
        replay.push_str(&format!(" --unsafe {name}"));
    }
    if args.controllers != 3 {
        replay.push_str(&format!(" --controllers {}", args.controllers));
    }
    if args.brokers != 3 {
        replay.push_str(&format!(" --brokers {}", args.brokers));
    }
    if args.duration_ms != 10_000 {
        replay.push_str(&format!(" --duration-ms {}", args.duration_ms));
    }
    if let Some(max) = args.max_faults {
        replay.push_str(&format!(" --max-faults {max}"));
    }
    if args.fsync {
        replay.push_str(" --fsync");
    }
    if args.reassign {
        replay.push_str(" --reassign");
    }
    if args.membership {
        replay.push_str(" --membership");
    }
    replay
}
