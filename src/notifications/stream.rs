//! `GET /api/admin/notifications/stream/` (issue 12, beyond the original): the bell's live feed as
//! server-sent events, so it updates without polling (the SPA's 30 s polling keeps working). The
//! token comes as `Authorization: Bearer` or `?token=` (an `EventSource` cannot send headers; the
//! query token is redacted from the logs; `Accept: text/event-stream` is required, as an
//! `EventSource` sends it, so that no other client waits on an endless body). First a `ready` event with the unread count, then one
//! `notification` event (the list's item shape, `id:` set) per new row, and a comment heartbeat
//! every 15 s. Waiting costs no task: the stream is a future polled by the connection, woken by
//! [`crate::events`] (across instances through Redis); a client that goes away drops it.

use std::{collections::VecDeque, convert::Infallible, time::Duration};

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::Stream;
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::{
    auth::{
        MaybeUser,
        extract::{TokenQuery, header_or_query},
    },
    error::{AppError, AppResult},
    events::StreamGuard,
    extract::Query,
    notifications::{model::NotificationOut, repo},
    state::AppState,
};

const HEARTBEAT: Duration = Duration::from_secs(15);
/// Rows one wake reads at most (the rest on the next wake or the list).
const BATCH: i64 = 50;

struct Feed {
    state: AppState,
    user_id: i64,
    last_id: i64,
    wakes: broadcast::Receiver<i64>,
    pending: VecDeque<Event>,
    _guard: StreamGuard,
}

impl Feed {
    async fn read_new(&mut self) {
        match repo::after(&self.state.db, self.user_id, self.last_id, BATCH).await {
            Ok(rows) => {
                let tz = self.state.config.tz_offset;
                for row in rows {
                    self.last_id = self.last_id.max(row.id);
                    let id = row.id.to_string();
                    let out = NotificationOut::new(row, tz);
                    if let Ok(event) = Event::default()
                        .event("notification")
                        .id(id)
                        .json_data(&out)
                    {
                        self.pending.push_back(event);
                    }
                }
            }
            Err(error) => tracing::debug!(%error, "notification stream: read failed"),
        }
    }
}

fn feed(feed: Feed) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(feed, |mut feed| async move {
        loop {
            if let Some(event) = feed.pending.pop_front() {
                return Some((Ok(event), feed));
            }
            match feed.wakes.recv().await {
                Ok(id) if id != feed.user_id => {}
                Ok(_) | Err(RecvError::Lagged(_)) => feed.read_new().await,
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

#[utoipa::path(get, path = "/api/admin/notifications/stream/", tag = "notifications",
    summary = "The caller's new notifications as server-sent events (header or ?token=)",
    params(("token" = Option<String>, Query, description = "The JWT, for EventSource clients")),
    responses((status = 200, description = "`text/event-stream`: `ready` {unread_count}, then `notification` events", content_type = "text/event-stream"),
        (status = 401, description = "Authentication required"),
        (status = 406, description = "The request does not accept `text/event-stream`")))]
pub async fn stream(
    State(state): State<AppState>,
    MaybeUser(header_user): MaybeUser,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let user = header_or_query(&state, header_user, query.token.as_deref()).await?;
    // Only a client that asks for a stream gets one (an `EventSource` always does); anything else
    // would wait on an endless body.
    let accepts = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("text/event-stream"));
    if !accepts {
        return Err(AppError::Detail(
            StatusCode::NOT_ACCEPTABLE,
            "This endpoint streams server-sent events: send Accept: text/event-stream.".into(),
        ));
    }
    // Subscribe before reading the last id, so nothing written in between is missed.
    let (wakes, guard) = state.events.subscribe();
    let last_id = repo::last_id(&state.db, user.id).await?;
    let unread = repo::count(&state.db, user.id, true).await?;
    let ready = Event::default()
        .event("ready")
        .data(json!({"unread_count": unread}).to_string());
    let feed = feed(Feed {
        state,
        user_id: user.id,
        last_id,
        wakes,
        pending: VecDeque::from([ready]),
        _guard: guard,
    });
    Ok(Sse::new(feed).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat")))
}
