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

#[cfg(test)]
mod tests {
    use super::in_parallel_chunks;

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
