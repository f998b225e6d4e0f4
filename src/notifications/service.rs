//! Writing notifications (contract-B §11.3): inside the caller's transaction, so a notification
//! exists exactly when the event it tells of was committed. Each call adds its recipients to a
//! [`Recipients`] list the caller hands to [`announce`] after the commit, which wakes their live
//! streams.

use crate::{db::Tx, notifications::repo, state::AppState};

/// Who was notified in a transaction (to wake once it committed).
#[derive(Debug, Clone, Default)]
pub struct Recipients(pub Vec<i64>);

/// A notification for every active admin.
pub async fn to_admins(
    tx: &mut Tx,
    recipients: &mut Recipients,
    kind: &str,
    title: &str,
    message: &str,
    order_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    let ids = repo::notify_admins(tx, kind, title, message, order_id).await?;
    recipients.0.extend(ids);
    Ok(())
}

/// A notification for one user.
pub async fn to_user(
    tx: &mut Tx,
    recipients: &mut Recipients,
    user_id: i64,
    kind: &str,
    title: &str,
    message: &str,
    order_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    repo::notify_user(tx, user_id, kind, title, message, order_id).await?;
    recipients.0.push(user_id);
    Ok(())
}

/// Wakes the recipients' live streams (after the commit).
pub async fn announce(state: &AppState, recipients: Recipients) {
    let mut ids = recipients.0;
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return;
    }
    state.events.publish(&ids).await;
}
