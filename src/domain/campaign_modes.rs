//! How a campaign hands vouchers out and how the goods reach the worker (contract v1.1,
//! "Allocation, delivery, ratings, wishes").

crate::text_enum!(
    /// `campaigns.mode`: workers `claim` (领取, the default), or the union `allocate`s
    /// (精准发放) one voucher to every worker of its subtree whom the rules admit.
    #[derive(Default)]
    pub enum CampaignMode {
        #[default]
        Claim => "claim",
        Allocate => "allocate",
    }
);

crate::text_enum!(
    /// `campaigns.fulfilment`: collected at a station counter (`pickup`, the default) or
    /// handed over at the worker's door (`delivery`, 送货上门).
    #[derive(Default)]
    pub enum Fulfilment {
        #[default]
        Pickup => "pickup",
        Delivery => "delivery",
    }
);

crate::text_enum!(
    /// `redemptions.method`: a hand-over at a counter or at the door. Both go through the
    /// same fence; the stats count both as redeemed.
    pub enum HandOver {
        Counter => "counter",
        Delivery => "delivery",
    }
);
