//! The typed model every backend reads. No syntax and no output format leaks in.
