//! Writes freshly generated codes for a product, in multi-row INSERTs of
//! [`CHUNK`] rows inside the caller's transaction (100,000 codes take seconds).

use anyhow::Context;
use sqlx::{MySql, Transaction};

use super::code::RedemptionCode;
use super::queries;
use super::types::CodeBatch;
use paychat_common::error::is_unique_violation;
use paychat_common::ids::IdGenerator;

pub const CHUNK: usize = 1000;
/// A duplicate among 74 random bits is astronomically rare; a few retries of a
/// chunk cover it, and more would point at a broken generator.
const MAX_RETRIES: u32 = 5;

pub async fn insert_codes(
    tx: &mut Transaction<'_, MySql>,
    ids: &IdGenerator,
    batch: &CodeBatch<'_>,
    count: u32,
) -> anyhow::Result<()> {
    let mut left = count as usize;
    while left > 0 {
        let n = left.min(CHUNK);
        let mut attempt = 0;
        loop {
            let codes: Vec<RedemptionCode> = {
                let mut rng = rand::rng();
                (0..n).map(|_| RedemptionCode::generate(&mut rng)).collect()
            };
            // InnoDB rolls back only the failed statement on a duplicate key, so
            // the chunk can be retried with fresh codes in the same transaction.
            match queries::insert_codes(tx, ids, batch, &codes).await {
                Ok(_) => break,
                Err(e) if is_unique_violation(&e) && attempt < MAX_RETRIES => {
                    attempt += 1;
                    tracing::warn!(
                        product_id = batch.product_id,
                        attempt,
                        "duplicate redemption code generated; retrying the chunk"
                    );
                }
                Err(e) => return Err(e).context("inserting redemption codes"),
            }
        }
        left -= n;
    }
    Ok(())
}
