//! How typed values are stored: ids as their ULID text, enums as their
//! lowercase word, deployment meta as its JSON object. Queries bind and
//! read the types themselves, never their text.

use crate::model::insights::Series;
use crate::model::{
    ApiTokenId, ArchiveId, CapsuleId, DeliveryState, DeploymentId, DeploymentMeta,
    DeploymentStatus, EventKind, HookFormat, InstanceId, InviteId, NotificationEvent,
    NotificationHookId, NotificationId, Phase, PipelineType, RemovalReason, Role, SiteId,
    SiteState, SourceKind, StepId, StepStatus, TeamId, TriggerKind, UserId, WallboardLinkId,
};
use sqlx::{Any, Database, Decode, Encode, Type, encode::IsNull, error::BoxDynError};
use std::str::FromStr;

/// Stores an id newtype as its ULID text.
macro_rules! text_column {
    ($ty:ty, $to:expr, $from:expr) => {
        impl Type<Any> for $ty {
            fn type_info() -> <Any as Database>::TypeInfo {
                <String as Type<Any>>::type_info()
            }
        }

        impl<'q> Encode<'q, Any> for $ty {
            fn encode_by_ref(
                &self,
                buf: &mut <Any as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                let text: String = ($to)(self);
                <String as Encode<'q, Any>>::encode(text, buf)
            }
        }

        impl<'r> Decode<'r, Any> for $ty {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <String as Decode<'r, Any>>::decode(value)?;
                ($from)(text.as_str()).ok_or_else(|| {
                    format!("unexpected {} in the database: {text:?}", stringify!($ty)).into()
                })
            }
        }
    };
}

macro_rules! id_column {
    ($($ty:ty),+) => {$(
        text_column!($ty, |id: &$ty| id.to_string(), |s: &str| <$ty>::from_str(s).ok());
    )+};
}

macro_rules! enum_column {
    ($($ty:ty),+) => {$(
        text_column!($ty, |v: &$ty| v.as_str().to_string(), <$ty>::parse);
    )+};
}

id_column!(
    TeamId,
    UserId,
    SiteId,
    DeploymentId,
    StepId,
    CapsuleId,
    ArchiveId,
    InviteId,
    InstanceId,
    WallboardLinkId,
    ApiTokenId,
    NotificationHookId,
    NotificationId
);
enum_column!(
    Role,
    SiteState,
    DeploymentStatus,
    StepStatus,
    PipelineType,
    SourceKind,
    TriggerKind,
    Phase,
    EventKind,
    RemovalReason,
    NotificationEvent,
    HookFormat,
    DeliveryState,
    Series
);
text_column!(DeploymentMeta, DeploymentMeta::to_json, |s: &str| Some(
    DeploymentMeta::from_json(s)
));
