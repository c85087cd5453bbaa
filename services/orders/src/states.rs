//! Every state the service writes to the database (orders, their payment
//! history, the outbox, codes, products), as enums: a query binds
//! them (`.bind(OrderStatus::Closed)`), so no SQL string carries a status
//! number. Each is a TINYINT column; docs/SCHEMA.md lists the values. They are
//! here rather than in their features because the lower layers (stock counts
//! held by open orders, fulfilment) compare them too.

use serde::{Deserialize, Serialize};

/// Implements sqlx's `Type` and `Encode` for MySQL on an enum with
/// `fn code(self) -> i8`, stored as that number.
macro_rules! tinyint {
    ($name:ty) => {
        impl ::sqlx::Type<::sqlx::MySql> for $name {
            fn type_info() -> ::sqlx::mysql::MySqlTypeInfo {
                <i8 as ::sqlx::Type<::sqlx::MySql>>::type_info()
            }

            fn compatible(ty: &::sqlx::mysql::MySqlTypeInfo) -> bool {
                <i8 as ::sqlx::Type<::sqlx::MySql>>::compatible(ty)
            }
        }

        impl<'q> ::sqlx::Encode<'q, ::sqlx::MySql> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <::sqlx::MySql as ::sqlx::Database>::ArgumentBuffer,
            ) -> ::std::result::Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                <i8 as ::sqlx::Encode<'q, ::sqlx::MySql>>::encode_by_ref(&self.code(), buf)
            }
        }
    };
}

pub(crate) use tinyint;

/// `chat_order.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    AwaitingPayment,
    AwaitingConfirmation,
    Completed,
    Invalid,
    Closed,
    /// Completed, then refunded by an operator: its unused codes revoked.
    Refunded,
}

impl OrderStatus {
    pub fn code(self) -> i8 {
        match self {
            Self::AwaitingPayment => 0,
            Self::AwaitingConfirmation => 1,
            Self::Completed => 2,
            Self::Invalid => 3,
            Self::Closed => 4,
            Self::Refunded => 5,
        }
    }

    pub fn from_code(code: i8) -> Self {
        match code {
            0 => Self::AwaitingPayment,
            1 => Self::AwaitingConfirmation,
            2 => Self::Completed,
            4 => Self::Closed,
            5 => Self::Refunded,
            _ => Self::Invalid,
        }
    }

    /// The states of an unpaid order, for `status IN (?, ?)`.
    pub const UNPAID: [Self; 2] = [Self::AwaitingPayment, Self::AwaitingConfirmation];

    pub fn is_unpaid(self) -> bool {
        matches!(self, Self::AwaitingPayment | Self::AwaitingConfirmation)
    }

    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }
}

tinyint!(OrderStatus);

/// `chat_order_history.pay_status`: what a history row records of the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayStatus {
    /// Placed, or a pay attempt requested: waiting for the buyer.
    Paying,
    /// The trade that paid the order.
    Paid,
    /// A pay attempt whose precreate failed or has an unknown outcome: retired.
    Failed,
    /// The order closed unpaid.
    Closed,
    /// A payment that could not be honoured went back to the buyer.
    Refunded,
}

impl PayStatus {
    pub fn code(self) -> i8 {
        match self {
            Self::Paying => 0,
            Self::Paid => 1,
            Self::Failed => 2,
            Self::Closed => 3,
            Self::Refunded => 4,
        }
    }
}

tinyint!(PayStatus);

/// `chat_exchange.status`: whether an operator has disabled the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeStatus {
    Enabled,
    Disabled,
}

impl CodeStatus {
    pub fn code(self) -> i8 {
        match self {
            Self::Enabled => 1,
            Self::Disabled => 2,
        }
    }
}

tinyint!(CodeStatus);

/// `chat_order_outbox.status`: where a timeout message stands in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Written with its order, not yet confirmed by the broker.
    Pending,
    /// Published and confirmed.
    Sent,
    /// Unreadable: parked, never published.
    Parked,
}

impl OutboxStatus {
    pub fn code(self) -> i8 {
        match self {
            Self::Pending => 0,
            Self::Sent => 1,
            Self::Parked => 2,
        }
    }
}

tinyint!(OutboxStatus);

/// `chat_product.status`: whether the product is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductStatus {
    Enabled,
    Disabled,
}

impl ProductStatus {
    pub fn code(self) -> i8 {
        match self {
            Self::Enabled => 1,
            Self::Disabled => 2,
        }
    }

    /// Anything but enabled is not offered.
    pub fn from_code(code: i8) -> Self {
        if code == 1 {
            Self::Enabled
        } else {
            Self::Disabled
        }
    }
}

tinyint!(ProductStatus);
