//! Payments (contract-B §2.7–2.8, §4.4, §4.11–4.12, §5, D18): the Razorpay gateway client, the
//! checkout route (an order from the cart plus its Razorpay order), verification of the checkout's
//! payment, the webhook, and the payment history. Marking an order paid is one function,
//! [`service::settle`], shared by the callback and the webhook.

pub mod checkout;
pub mod model;
pub mod razorpay;
pub mod records;
pub mod repo;
pub mod routes;
pub mod service;
pub mod webhook;

pub use routes::router;
