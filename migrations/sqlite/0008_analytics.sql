-- Analytics (issue 13): revenue windows by payment time, staff performance by last update.
CREATE INDEX orders_payment_completed ON orders (payment_completed_at);
CREATE INDEX orders_updated ON orders (updated_at);
-- A staff member's orders, newest first (the staff list; issue 12): one index range, no sort.
DROP INDEX orders_assigned_to;
CREATE INDEX orders_assigned_created ON orders (assigned_to, created_at DESC);
