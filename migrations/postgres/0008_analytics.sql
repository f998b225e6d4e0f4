-- Analytics (issue 13): revenue windows by payment time, staff performance by last update.
CREATE INDEX orders_payment_completed ON orders (payment_completed_at);
CREATE INDEX orders_updated ON orders (updated_at);
