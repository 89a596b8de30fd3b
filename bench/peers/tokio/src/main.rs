//! The workloads of `go run ./bench -peers` on tokio's current-thread
//! runtime (see bench/peers/README.md for the shape of each and the
//! protocol):
//!
//!     aio-peer-tokio bench COUNT name=N,name=N,...   # one JSON line per workload
//!     aio-peer-tokio serve stream                    # "addr HOST:PORT", echo until stdin ends
//!
//! tokio has no call_soon: the callback rows spawn tasks, the closest it
//! has (a task is tokio's unit of scheduling).

use std::cell::{Cell, RefCell};
use std::io::{BufRead, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::{Builder, Runtime};
use tokio::sync::mpsc;
use tokio::task::{self, JoinSet, LocalSet};

const PEER: &str = "tokio";

type Outcome = Result<(f64, String), String>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let code = match args.get(1).map(String::as_str) {
        Some("bench") if args.len() == 4 => bench(&args[2], &args[3]),
        Some("serve") if args.len() == 3 => serve(&args[2]),
        _ => {
            eprintln!("usage: aio-peer-tokio bench COUNT name=N,... | serve stream");
            2
        }
    };
    std::process::exit(code);
}

fn runtime() -> Runtime {
    Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn bench(count: &str, spec: &str) -> i32 {
    let count: usize = match count.parse() {
        Ok(c) if c >= 1 => c,
        _ => {
            eprintln!("bad COUNT {:?}", count);
            return 2;
        }
    };
    let mut failed = false;
    for item in spec.split(',').filter(|s| !s.is_empty()) {
        let (name, n) = match item.split_once('=').and_then(|(a, b)| b.parse::<usize>().ok().map(|n| (a, n))) {
            Some(x) => x,
            None => {
                eprintln!("bad workload {:?}: want name=N", item);
                return 2;
            }
        };
        let (unit, f): (&str, fn(usize) -> Outcome) = match name {
            "callback" => ("ns per op", callbacks),
            "chain" => ("ns per op", chain),
            "timer" => ("ns per op", timers),
            "timer-order" => ("faults (a check)", timer_order),
            "spawn" => ("ns per op", spawn),
            "pingpong" => ("ns per op", pingpong),
            "submit" => ("ns per op", submit),
            "queue" => ("ns per op", queue),
            "group" => ("ns per op", group),
            _ => {
                println!("{{\"peer\":\"{}\",\"workload\":\"{}\",\"skip\":\"not written for tokio\"}}", PEER, name);
                continue;
            }
        };
        let mut values = Vec::new();
        let mut note = String::new();
        let mut err = None;
        for _ in 0..count {
            match f(n) {
                Ok((v, nt)) => {
                    values.push(v);
                    note = nt;
                }
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = err {
            failed = true;
            println!("{{\"peer\":\"{}\",\"workload\":\"{}\",\"error\":{}}}", PEER, name, json_str(&e));
            continue;
        }
        values.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = if values.len() % 2 == 1 {
            values[values.len() / 2]
        } else {
            (values[values.len() / 2 - 1] + values[values.len() / 2]) / 2.0
        };
        println!(
            "{{\"peer\":\"{}\",\"workload\":\"{}\",\"unit\":\"{}\",\"value\":{},\"n\":{},\"runs\":{},\"note\":{}}}",
            PEER, name, unit, median, n, count, json_str(&note)
        );
        std::io::stdout().flush().ok();
    }
    if failed {
        1
    } else {
        0
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn per_op(t0: Instant, n: usize) -> f64 {
    t0.elapsed().as_nanos() as f64 / n as f64
}

/// A small xorshift generator: the delays need no more.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Runs f in a LocalSet on a new current-thread runtime.
fn local<F: std::future::Future<Output = Outcome>>(f: F) -> Outcome {
    let rt = runtime();
    LocalSet::new().block_on(&rt, f)
}

/// callback: tasks spawned in batches of 1000 (tokio's unit of scheduling:
/// it has no plain callback), the batch run by yielding until it is done.
fn callbacks(n: usize) -> Outcome {
    local(async move {
        let count = Rc::new(Cell::new(0usize));
        let t0 = Instant::now();
        let mut left = n;
        while left > 0 {
            let b = left.min(1000);
            let want = count.get() + b;
            for _ in 0..b {
                let c = count.clone();
                drop(task::spawn_local(async move { c.set(c.get() + 1) }));
            }
            while count.get() < want {
                task::yield_now().await;
            }
            left -= b;
        }
        let v = per_op(t0, n);
        if count.get() != n {
            return Err(format!("{} of {} callbacks ran", count.get(), n));
        }
        Ok((v, "spawn_local of a task in batches of 1000 (tokio has no call_soon)".into()))
    })
}

/// chain: each task spawns the next.
fn chain(n: usize) -> Outcome {
    fn link(left: usize, done: Rc<RefCell<Option<tokio::sync::oneshot::Sender<()>>>>) {
        if left == 0 {
            if let Some(tx) = done.borrow_mut().take() {
                let _ = tx.send(());
            }
            return;
        }
        drop(task::spawn_local(async move { link(left - 1, done) }));
    }
    local(async move {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let done = Rc::new(RefCell::new(Some(tx)));
        let t0 = Instant::now();
        link(n, done);
        rx.await.map_err(|e| e.to_string())?;
        Ok((per_op(t0, n), "each task spawn_local's the next".into()))
    })
}

/// timer: n tasks each sleeping a random 0-100 ms, per timer registered
/// (the spawn and the first poll, which registers the Sleep).
fn timers(n: usize) -> Outcome {
    local(async move {
        let mut rng = Rng(0x9E3779B97F4A7C15);
        let delays: Vec<u64> = (0..n).map(|_| rng.below(100_000)).collect();
        let polled = Rc::new(Cell::new(0usize));
        let t0 = Instant::now();
        let mut handles = Vec::with_capacity(n);
        for d in delays {
            let p = polled.clone();
            handles.push(task::spawn_local(async move {
                let s = tokio::time::sleep(Duration::from_micros(d));
                tokio::pin!(s);
                // Register the timer by polling once, then count.
                let registered = futures_poll_once(s.as_mut()).await;
                p.set(p.get() + 1);
                if !registered {
                    s.await;
                }
            }));
        }
        while polled.get() < n {
            task::yield_now().await;
        }
        let v = per_op(t0, n);
        for h in handles {
            h.abort();
        }
        Ok((v, "a task spawned per timer, its Sleep polled once (registered)".into()))
    })
}

/// Polls a future once; true if it is ready.
async fn futures_poll_once<F: std::future::Future + Unpin>(mut f: F) -> bool {
    std::future::poll_fn(move |cx| {
        std::task::Poll::Ready(std::pin::Pin::new(&mut f).poll(cx).is_ready())
    })
    .await
}

/// timer-order: n timers at random deadlines of 0-50 ms; a fault is a
/// timer that fires before its deadline or before one of an earlier
/// (deadline, scheduling) order.
fn timer_order(n: usize) -> Outcome {
    local(async move {
        let mut rng = Rng(0x2545F4914F6CDD1D);
        let fired: Rc<RefCell<Vec<(Instant, usize, Instant)>>> = Rc::new(RefCell::new(Vec::with_capacity(n)));
        let mut handles = Vec::with_capacity(n);
        for seq in 0..n {
            let d = Duration::from_micros(rng.below(50_000));
            let deadline = Instant::now() + d;
            let f = fired.clone();
            handles.push(task::spawn_local(async move {
                tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await;
                f.borrow_mut().push((deadline, seq, Instant::now()));
            }));
        }
        for h in handles {
            h.await.map_err(|e| e.to_string())?;
        }
        let fired = fired.borrow();
        let (mut early, mut order) = (0usize, 0usize);
        let mut last: Option<(Instant, usize)> = None;
        for &(deadline, seq, at) in fired.iter() {
            if at < deadline {
                early += 1;
            }
            if let Some(l) = last {
                if (deadline, seq) < l {
                    order += 1;
                }
            }
            last = Some(last.map_or((deadline, seq), |l| l.max((deadline, seq))));
        }
        Ok(((early + order) as f64, format!("{} early, {} out of order (sleep_until: 1 ms wheel)", early, order)))
    })
}

/// spawn: n tasks spawned, then all awaited.
fn spawn(n: usize) -> Outcome {
    local(async move {
        let t0 = Instant::now();
        let hs: Vec<_> = (0..n).map(|i| task::spawn_local(async move { i })).collect();
        let mut sum = 0usize;
        for h in hs {
            sum += h.await.map_err(|e| e.to_string())?;
        }
        let v = per_op(t0, n);
        if sum != n * (n - 1) / 2 {
            return Err("wrong sum".into());
        }
        Ok((v, "spawn_local, then each JoinHandle awaited".into()))
    })
}

/// pingpong: a value handed back and forth between two tasks over two
/// mpsc channels of capacity 1, per round trip.
fn pingpong(n: usize) -> Outcome {
    local(async move {
        let (to_pong, mut pong_rx) = mpsc::channel::<usize>(1);
        let (to_ping, mut ping_rx) = mpsc::channel::<usize>(1);
        let pong = task::spawn_local(async move {
            while let Some(v) = pong_rx.recv().await {
                if to_ping.send(v + 1).await.is_err() {
                    break;
                }
            }
        });
        let t0 = Instant::now();
        let mut v = 0;
        for _ in 0..n {
            to_pong.send(v).await.map_err(|e| e.to_string())?;
            v = ping_rx.recv().await.ok_or("pong ended")?;
        }
        let r = per_op(t0, n);
        drop(to_pong);
        pong.await.map_err(|e| e.to_string())?;
        if v != n {
            return Err("wrong count".into());
        }
        Ok((r, "two tokio::sync::mpsc channels of 1".into()))
    })
}

/// submit: 4 threads send n items in all on an unbounded mpsc channel to a
/// task of the runtime (the way into a runtime from other threads).
fn submit(n: usize) -> Outcome {
    local(async move {
        let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
        let per = n / 4;
        let t0 = Instant::now();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..per {
                        let _ = tx.send(i);
                    }
                })
            })
            .collect();
        drop(tx);
        let mut got = 0usize;
        while rx.recv().await.is_some() {
            got += 1;
        }
        let v = per_op(t0, per * 4);
        for t in threads {
            t.join().map_err(|_| "sender panicked")?;
        }
        if got != per * 4 {
            return Err(format!("{} of {} received", got, per * 4));
        }
        Ok((v, "4 threads, an unbounded mpsc channel to a task".into()))
    })
}

/// queue: a producer task and a consumer task on an mpsc channel of 64.
fn queue(n: usize) -> Outcome {
    local(async move {
        let (tx, mut rx) = mpsc::channel::<usize>(64);
        let t0 = Instant::now();
        let p = task::spawn_local(async move {
            for i in 0..n {
                if tx.send(i).await.is_err() {
                    break;
                }
            }
        });
        let mut sum = 0usize;
        while let Some(v) = rx.recv().await {
            sum += v;
        }
        let r = per_op(t0, n);
        p.await.map_err(|e| e.to_string())?;
        if sum != n * (n - 1) / 2 {
            return Err("wrong sum".into());
        }
        Ok((r, "tokio::sync::mpsc::channel(64)".into()))
    })
}

/// group: n tasks in a JoinSet, all joined.
fn group(n: usize) -> Outcome {
    local(async move {
        let t0 = Instant::now();
        let mut set = JoinSet::new();
        for i in 0..n {
            set.spawn_local(async move { i });
        }
        let mut sum = 0usize;
        while let Some(r) = set.join_next().await {
            sum += r.map_err(|e| e.to_string())?;
        }
        let v = per_op(t0, n);
        if sum != n * (n - 1) / 2 {
            return Err("wrong sum".into());
        }
        Ok((v, "JoinSet::spawn_local, join_next".into()))
    })
}

/// serve runs the echo server: a task per connection reading into a
/// 32 KiB buffer and writing it back with write_all.
fn serve(form: &str) -> i32 {
    if form != "stream" {
        eprintln!("tokio: no {:?} form (only stream: tokio has no protocol/callback API)", form);
        return 2;
    }
    std::thread::spawn(|| {
        let stdin = std::io::stdin();
        for _ in stdin.lock().lines() {}
        std::process::exit(0);
    });
    let rt = runtime();
    let r: std::io::Result<()> = rt.block_on(async {
        let ln = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("addr {}", ln.local_addr()?);
        std::io::stdout().flush()?;
        loop {
            let (mut s, _) = ln.accept().await?;
            s.set_nodelay(true)?;
            tokio::spawn(async move {
                let mut buf = vec![0u8; 32 << 10];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => {
                            if s.write_all(&buf[..k]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    eprintln!("tokio serve: {:?}", r);
    1
}
