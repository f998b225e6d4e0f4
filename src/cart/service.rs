//! What other features may do with a cart (the order flow): take its lines under the cart's lock,
//! empty it, and put lines back when an order could not be placed.

use crate::{
    cart::{
        model::{CartItemRow, MAX_QUANTITY},
        repo,
    },
    catalog::model::ProductType,
    db::Tx,
};

/// The user's cart locked for the rest of `tx` with its live lines (oldest first); `None` when the
/// user has no cart.
pub async fn lock_lines(
    tx: &mut Tx,
    user_id: i64,
) -> Result<Option<(i64, Vec<CartItemRow>)>, sqlx::Error> {
    let Some(cart) = repo::find_locked(tx, user_id).await? else {
        return Ok(None);
    };
    let lines = repo::items_in(tx, cart.id).await?;
    Ok(Some((cart.id, lines)))
}

/// Empties the cart (inside the transaction that placed the order).
pub async fn empty(tx: &mut Tx, cart_id: i64) -> Result<(), sqlx::Error> {
    repo::clear(tx, cart_id).await.map(|_| ())
}

/// Puts `(type, product, quantity)` lines back into the user's cart, adding to what it holds now
/// (a line never passes [`MAX_QUANTITY`]).
pub async fn restore(
    tx: &mut Tx,
    user_id: i64,
    lines: &[(ProductType, i64, i32)],
) -> Result<(), sqlx::Error> {
    let cart = repo::ensure(tx, user_id).await?;
    let cart = repo::find_locked(tx, user_id).await?.unwrap_or(cart);
    for &(kind, product_id, quantity) in lines {
        let held = repo::line_quantity(tx, cart.id, kind, product_id)
            .await?
            .unwrap_or(0);
        let room = (MAX_QUANTITY - i64::from(held)).max(0);
        let add = i64::from(quantity).min(room);
        if let Ok(add) = i32::try_from(add)
            && add > 0
        {
            repo::add(tx, cart.id, kind, product_id, add).await?;
        }
    }
    Ok(())
}
