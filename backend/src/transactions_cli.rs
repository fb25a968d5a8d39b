//! `kite transactions`, like kafka-transactions.sh against a running `kite serve`: list the
//! transactional ids (coordinator, producer id, state) and describe one (epoch, timeout, when its
//! open transaction started, the partitions it wrote to).

use std::io::Write;

use kite_shared::api::{Command, Reply, TransactionView};

use kite_backend::client::ApiClient;

use crate::cli::{ServerArg, kafka_error};

#[derive(clap::Subcommand)]
pub(crate) enum TransactionsCommand {
    /// List every transactional id with its coordinator, producer id and state.
    List,
    /// Describe one transactional id's transaction.
    Describe {
        #[arg(long)]
        transactional_id: String,
    },
}

pub(crate) fn transactions(
    command: TransactionsCommand,
    server: &ServerArg,
    now_ms: i64,
    out: &mut impl Write,
) -> Result<(), String> {
    let mut connection = ApiClient::connect(&server.server)?;
    let transactions = match connection.request(Command::DescribeTransactions)? {
        Reply::Transactions { transactions } => transactions,
        other => return Err(kafka_error(other)),
    };
    let io = |e: std::io::Error| e.to_string();
    match command {
        TransactionsCommand::List => {
            writeln!(
                out,
                "{:<24} {:<12} {:<20} TransactionState",
                "TransactionalId", "Coordinator", "ProducerId"
            )
            .map_err(io)?;
            for t in &transactions {
                writeln!(
                    out,
                    "{:<24} {:<12} {:<20} {}",
                    t.transactional_id,
                    coordinator(t),
                    t.producer_id,
                    t.state
                )
                .map_err(io)?;
            }
            Ok(())
        }
        TransactionsCommand::Describe { transactional_id } => {
            let Some(t) = transactions.iter().find(|t| t.transactional_id == transactional_id) else {
                return Err(format!(
                    "Error: TRANSACTIONAL_ID_NOT_FOUND (105): No transaction has transactional id '{transactional_id}'."
                ));
            };
            let duration = if t.start_ms >= 0 { (now_ms - t.start_ms).to_string() } else { "None".into() };
            let start = if t.start_ms >= 0 { t.start_ms.to_string() } else { "None".into() };
            let partitions: Vec<String> =
                t.partitions.iter().map(|p| format!("{}-{}", p.topic, p.partition)).collect();
            writeln!(
                out,
                "CoordinatorId\tTransactionalId\tProducerId\tProducerEpoch\tTransactionState\tTransactionTimeoutMs\tCurrentTransactionStartTimeMs\tTransactionDurationMs\tTopicPartitions"
            )
            .map_err(io)?;
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                coordinator(t),
                t.transactional_id,
                t.producer_id,
                t.producer_epoch,
                t.state,
                t.timeout_ms,
                start,
                duration,
                partitions.join(",")
            )
            .map_err(io)
        }
    }
}

fn coordinator(t: &TransactionView) -> String {
    t.coordinator.map_or_else(|| "none".to_string(), |c| c.to_string())
}
