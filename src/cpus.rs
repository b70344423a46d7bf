//! Where `cimetrics import` runs its threads.
//!
//! The import's writer hands each statement to the database driver's own thread (sqlx runs
//! an SQLite connection on a worker thread) and sleeps until it answers, tens of thousands of
//! times a minute. When the two meet on different cores, every hand-off wakes a core through
//! the scheduler; on this 2-core VM that waiting, not the work, was a quarter of an import's
//! time. Kept on one core, with the parsers on the others, the year's import took 51.9 s
//! instead of 73 s (`benches/README.md`).
//!
//! [`Placement::split`] keeps the calling thread, and every thread started from it later (the
//! async runtime, the driver's workers), on one core, and gives the parsers the rest. It
//! changes nothing with fewer than two cores allowed, or off Linux.

/// The cores the writer and the parsers run on.
pub struct Placement {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    parsers: Option<libc::cpu_set_t>,
    /// How many parser threads to start.
    pub parser_threads: usize,
}

impl Placement {
    /// Pins the calling thread (the writer) to the first core it may run on, and returns
    /// where the parsers go: the other cores, a parser thread each. Call it before starting
    /// the threads that should stay beside the writer.
    pub fn split() -> Placement {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parser_threads = cores.saturating_sub(1).max(1);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            let parsers = linux::split_from_current();
            let parser_threads = match &parsers {
                Some(set) => linux::count(set),
                None => parser_threads,
            };
            Placement {
                parsers,
                parser_threads,
            }
        }
        #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
        Placement { parser_threads }
    }

    /// Moves the calling thread (a parser) off the writer's core.
    pub fn enter_parser(&self) {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        if let Some(set) = &self.parsers {
            linux::pin_current(set);
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod linux {
    use libc::{CPU_ISSET, CPU_SET, CPU_SETSIZE, CPU_ZERO, cpu_set_t};

    fn empty() -> cpu_set_t {
        // SAFETY: cpu_set_t is a plain bit array; all zeroes is the empty set, which
        // CPU_ZERO makes explicit.
        let mut set: cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, owned cpu_set_t.
        unsafe { CPU_ZERO(&mut set) };
        set
    }

    fn cores(set: &cpu_set_t) -> Vec<usize> {
        (0..CPU_SETSIZE as usize)
            // SAFETY: `cpu` is below CPU_SETSIZE, the set's size in bits.
            .filter(|&cpu| unsafe { CPU_ISSET(cpu, set) })
            .collect()
    }

    pub fn count(set: &cpu_set_t) -> usize {
        cores(set).len()
    }

    pub fn pin_current(set: &cpu_set_t) -> bool {
        // SAFETY: pid 0 is the calling thread; the size is the set's own.
        unsafe { libc::sched_setaffinity(0, size_of::<cpu_set_t>(), set) == 0 }
    }

    /// Pins the calling thread to the first of its allowed cores and returns the rest, or
    /// None (nothing changed) with fewer than two, or when the kernel refuses.
    pub fn split_from_current() -> Option<cpu_set_t> {
        let mut allowed = empty();
        // SAFETY: pid 0 is the calling thread; `allowed` is a valid cpu_set_t of that size.
        if unsafe { libc::sched_getaffinity(0, size_of::<cpu_set_t>(), &mut allowed) } != 0 {
            return None;
        }
        let allowed = cores(&allowed);
        let (&writer, rest) = allowed.split_first()?;
        if rest.is_empty() {
            return None;
        }
        let mut mine = empty();
        let mut theirs = empty();
        // SAFETY: every core came from a set of CPU_SETSIZE bits.
        unsafe {
            CPU_SET(writer, &mut mine);
            for &cpu in rest {
                CPU_SET(cpu, &mut theirs);
            }
        }
        pin_current(&mine).then_some(theirs)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn sets_hold_what_was_put_in() {
            let mut set = empty();
            assert_eq!(count(&set), 0);
            // SAFETY: both cores are below CPU_SETSIZE.
            unsafe {
                CPU_SET(1, &mut set);
                CPU_SET(5, &mut set);
            }
            assert_eq!(cores(&set), vec![1, 5]);
        }

        fn current() -> Vec<usize> {
            let mut set = empty();
            // SAFETY: pid 0 is the calling thread; `set` is a valid cpu_set_t of that size.
            assert_eq!(
                unsafe { libc::sched_getaffinity(0, size_of::<cpu_set_t>(), &mut set) },
                0
            );
            cores(&set)
        }

        #[test]
        fn the_writer_keeps_its_first_core_and_the_parsers_get_the_rest() {
            // On a thread of its own: the pin stays with the thread that asked.
            std::thread::spawn(|| {
                let before = current();
                let parsers = split_from_current();
                if before.len() < 2 {
                    assert!(parsers.is_none());
                    assert_eq!(current(), before);
                } else {
                    assert_eq!(current(), vec![before[0]]);
                    assert_eq!(cores(&parsers.expect("a split")), before[1..].to_vec());
                }
            })
            .join()
            .expect("the test thread");
        }
    }
}
