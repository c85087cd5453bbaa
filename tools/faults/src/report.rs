//! What the run prints at its end: one line per invariant, then the table of
//! passes (faults injected, operations done, violations found).

use crate::invariants::Outcome;
use crate::load::Counts;

pub struct PassRow {
    pub pass: usize,
    pub faults: usize,
    pub kinds: usize,
    pub counts: Counts,
    pub errors_in_windows: usize,
    pub seconds: f64,
}

pub fn invariants(outcomes: &[Outcome]) {
    for o in outcomes {
        println!("invariant: {:<68} {} violations", o.name, o.violations);
        for e in &o.examples {
            println!("    e.g. {e}");
        }
    }
}

pub fn table(rows: &[PassRow], violations: usize) {
    println!();
    println!(
        "| pass | faults injected (kinds) | seconds | sign-ups | logins | orders | payments (late) | redemptions | chats | closes | 5xx in fault windows | violations |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut total = Counts::default();
    let (mut faults, mut errors, mut seconds) = (0, 0, 0.0);
    let kinds = rows.iter().map(|r| r.kinds).max().unwrap_or(0);
    for r in rows {
        let c = r.counts;
        println!(
            "| {} | {} ({}) | {:.0} | {} | {} | {} | {} ({}) | {} | {} | {} | {} | |",
            r.pass,
            r.faults,
            r.kinds,
            r.seconds,
            c.signups,
            c.logins,
            c.orders,
            c.payments,
            c.late_payments,
            c.redemptions,
            c.chats,
            c.closes,
            r.errors_in_windows
        );
        total.signups += c.signups;
        total.logins += c.logins;
        total.orders += c.orders;
        total.payments += c.payments;
        total.late_payments += c.late_payments;
        total.redemptions += c.redemptions;
        total.chats += c.chats;
        total.closes += c.closes;
        faults += r.faults;
        errors += r.errors_in_windows;
        seconds += r.seconds;
    }
    let c = total;
    println!(
        "| **all** | {faults} ({kinds}) | {seconds:.0} | {} | {} | {} | {} ({}) | {} | {} | {} | {errors} | **{violations}** |",
        c.signups,
        c.logins,
        c.orders,
        c.payments,
        c.late_payments,
        c.redemptions,
        c.chats,
        c.closes
    );
}
