//! Work over a slice on all cores with results in input order, so outputs (the
//! build's files, lint's report) never depend on the threads.

/// `check` over chunks of `items` on all cores, with at least
/// `min_items_per_thread` items per thread (below that a thread costs more than it
/// saves); results in item order.
pub fn in_parallel_chunks<T: Sync, R: Send>(
    items: &[T],
    min_items_per_thread: usize,
    check: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len() / min_items_per_thread.max(1))
        .max(1);
    if threads == 1 {
        return check(items);
    }
    let check = &check;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|chunk| scope.spawn(move || check(chunk)))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| match worker.join() {
                Ok(results) => results,
                // A panic in a worker is a bug; re-raise it with its own message.
                Err(payload) => std::panic::resume_unwind(payload),
            })
            .collect()
    })
}

/// Like [`in_parallel_chunks`], for work whose items cost unequal time or whose
/// threads may be slowed by the machine: the items go out in small chunks (about
/// eight per thread, at least `min_items_per_thread / 8` items each) to whichever
/// thread is free, so no thread waits long for another. Results in item order.
pub fn in_parallel_balanced<T: Sync, R: Send>(
    items: &[T],
    min_items_per_thread: usize,
    check: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    const CHUNKS_PER_THREAD: usize = 8;
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len() / min_items_per_thread.max(1))
        .max(1);
    if threads == 1 {
        return check(items);
    }
    let chunk_size = items
        .len()
        .div_ceil(threads * CHUNKS_PER_THREAD)
        .max(min_items_per_thread / CHUNKS_PER_THREAD)
        .max(1);
    let chunks: Vec<&[T]> = items.chunks(chunk_size).collect();
    let next_chunk = std::sync::atomic::AtomicUsize::new(0);
    let (check, chunks, next_chunk) = (&check, &chunks, &next_chunk);
    let mut done: Vec<(usize, Vec<R>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let index = next_chunk.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(chunk) = chunks.get(index) else {
                            return done;
                        };
                        done.push((index, check(chunk)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| match worker.join() {
                Ok(done) => done,
                // A panic in a worker is a bug; re-raise it with its own message.
                Err(payload) => std::panic::resume_unwind(payload),
            })
            .collect()
    });
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().flat_map(|(_, results)| results).collect()
}

#[cfg(test)]
mod tests {
    use super::{in_parallel_balanced, in_parallel_chunks};

    #[test]
    fn balanced_chunks_keep_item_order() {
        for length in [0, 1, 15, 16, 17, 100, 5000] {
            let items: Vec<usize> = (0..length).collect();
            let tripled = in_parallel_balanced(&items, 16, |chunk: &[usize]| {
                chunk.iter().map(|item| item * 3).collect()
            });
            assert_eq!(
                tripled,
                items.iter().map(|item| item * 3).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn parallel_chunks_keep_item_order() {
        let items: Vec<usize> = (0..5000).collect();
        let doubled = in_parallel_chunks(&items, 16, |chunk: &[usize]| {
            chunk.iter().map(|item| item * 2).collect()
        });
        assert_eq!(
            doubled,
            items.iter().map(|item| item * 2).collect::<Vec<_>>()
        );
    }
}
