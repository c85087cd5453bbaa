//! Writes freshly generated codes for a product, in multi-row INSERTs of
//! [`CHUNK`] rows inside the caller's transaction (100,000 codes take seconds).

use anyhow::Context;
use rust_decimal::Decimal;
use sqlx::{MySql, QueryBuilder, Transaction};

use super::code::RedemptionCode;
use paychat_common::error::is_unique_violation;
use paychat_common::ids::IdGenerator;

pub const CHUNK: usize = 1000;
/// A duplicate among 74 random bits is astronomically rare; a few retries of a
/// chunk cover it, and more would point at a broken generator.
const MAX_RETRIES: u32 = 5;

pub struct CodeBatch<'a> {
    pub product_id: i64,
    pub name: &'a str,
    pub reward_use_times: i32,
    pub price: Decimal,
    pub expires_days: i32,
}

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
            let mut qb: QueryBuilder<MySql> = QueryBuilder::new(
                "INSERT INTO chat_exchange (id, product_id, name, code, reward_use_times, price, expires_days) ",
            );
            qb.push_values(&codes, |mut row, code| {
                row.push_bind(ids.next())
                    .push_bind(batch.product_id)
                    .push_bind(batch.name)
                    .push_bind(code.as_str())
                    .push_bind(batch.reward_use_times)
                    .push_bind(batch.price)
                    .push_bind(batch.expires_days);
            });
            // InnoDB rolls back only the failed statement on a duplicate key, so
            // the chunk can be retried with fresh codes in the same transaction.
            match qb.build().execute(&mut **tx).await {
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
