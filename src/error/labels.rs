//! Chinese labels for the fields people type, so a 400's title reads "密码不能为空"
//! rather than naming a JSON key. Fields without a label keep the generic title.

/// The label of a field path's last segment (`rules[0].values` → `values`).
pub fn label(field: &str) -> Option<&'static str> {
    let last = field.rsplit('.').next().unwrap_or(field);
    let last = last.split('[').next().unwrap_or(last);
    Some(match last {
        "phone" => "手机号",
        "password" | "new_password" => "密码",
        "name" => "名称",
        "title" => "活动名称",
        "item_name" => "物品名称",
        "description" => "活动说明",
        "reason" => "原因",
        "employer" => "工作单位",
        "address" => "地址",
        "region_code" => "地区代码",
        "occupation" => "职业",
        "total_stock" => "总库存",
        "per_worker_limit" => "每人限领",
        "claim_starts_at" => "领取开始时间",
        "claim_ends_at" => "领取截止时间",
        "redeem_until" => "核销截止时间",
        "station_ids" | "station_id" => "驿站",
        "union_id" | "parent_id" | "to_union_id" => "工会",
        "join_code" => "入会码",
        "code" => "券码",
        "X-Terminal-Id" => "终端名称",
        "Idempotency-Key" => "请求编号",
        "limit" => "每页条数",
        "cursor" => "翻页位置",
        _ => return None,
    })
}
