//! Arbitrary bytes on a Kafka listener (`kafka::KafkaConnection`), as a client's socket would
//! bring them: whole responses or a closed connection, never a panic.
#![no_main]

#[path = "../checks.rs"]
mod checks;

// `kite serve`'s allocator, as it runs the listener: `kafka-protocol` reserves an array's claimed
// elements before reading one, and a 12-byte request can claim 160 GiB. Mapped lazily, that is
// address space only; from the system allocator (and the sanitizer's) it is an out-of-memory abort.
#[path = "../../../backend/src/huge_alloc.rs"]
#[allow(dead_code)]
mod huge_alloc;

#[global_allocator]
static ALLOCATOR: huge_alloc::HugeLazily = huge_alloc::HugeLazily;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::kafka_request::check_input(data));
