//! Single flight: concurrent misses of one key on one instance run the computation once.

use super::*;

pub(super) type FlightCell = Arc<OnceCell<Arc<str>>>;

impl Cache {
    pub(super) fn join_flight(&self, key: &str) -> Flight<'_> {
        let mut flights = lock(&self.inner.flights);
        let cell = flights
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone();
        Flight {
            flights: &self.inner.flights,
            key: key.to_string(),
            cell,
        }
    }
}

/// Why a flight's leader has no JSON for the others.
pub(super) enum Lead<E> {
    Failed(E),
    Unstorable,
}

/// A caller's membership in a key's flight. The flight leaves the map once it has a value (later
/// callers start a new one, which finds the stored value) or when its last member leaves; a member
/// that gives up (its request was cancelled) does not end the flight for the others.
pub(super) struct Flight<'a> {
    pub(super) flights: &'a Mutex<HashMap<String, FlightCell>>,
    pub(super) key: String,
    pub(super) cell: FlightCell,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut flights = lock(self.flights);
        // Counted under the lock that joining takes: 2 = the map's and ours.
        if flights.get(&self.key).is_some_and(|c| {
            Arc::ptr_eq(c, &self.cell)
                && (self.cell.initialized() || Arc::strong_count(&self.cell) == 2)
        }) {
            flights.remove(&self.key);
        }
    }
}
