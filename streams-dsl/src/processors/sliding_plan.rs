//! Which windows one record creates and updates under sliding windows (Kafka's
//! `KStreamSlidingWindowAggregate`, KIP-450), as a plain function of the record's timestamp
//! and the key's windows already stored: windows are `[start, start + time difference]`
//! (both ends inclusive); a record updates every window holding it, creates its left window
//! `[t - d, t]` and — when a later record falls in it — its right window `[t + 1, t + 1 + d]`,
//! and creates the right window of the record before it when this record falls in that one.
//! Records earlier than the time difference share the window `[0, d]`.

/// What a window's aggregation starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Base<A> {
    /// The initializer's value, stamped with the record's timestamp (a new window).
    Initial,
    /// This aggregate and timestamp (a stored window, or a left window taking the
    /// aggregate of the window before it).
    Existing(A, i64),
}

/// One step of processing a record, in the order Kafka does them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SlidingAction<A> {
    /// Aggregate the record into the window starting at `start`, from `base`.
    Update {
        /// The window start.
        start: i64,
        /// The aggregate before the record.
        base: Base<A>,
    },
    /// Store `agg` (with its timestamp) as the record's right window starting at `start`,
    /// without the record (it holds only later records).
    CreateRight {
        /// The window start (the record's timestamp + 1).
        start: i64,
        /// The aggregate.
        agg: A,
        /// Its timestamp.
        timestamp: i64,
    },
}

/// A stored window of the key: its start, aggregate and timestamp (the latest record's).
pub(crate) type Stored<A> = (i64, A, i64);

/// The steps for a record at `ts` (at least `d`) given the key's stored windows starting in
/// `[max(0, ts - 2d), ts + 1]`, latest start first (Kafka's `processReverse`). An `Err`
/// names a stored window that cannot be there (Kafka's `IllegalStateException`).
pub(crate) fn plan<A: Clone>(
    d: i64,
    ts: i64,
    latest_first: &[Stored<A>],
) -> Result<Vec<SlidingAction<A>>, String> {
    let mut actions = Vec::new();
    let mut starts = Vec::new();
    let mut left_agg: Option<(A, i64)> = None;
    let mut right_agg: Option<(A, i64)> = None;
    let mut left_created = false;
    let mut right_created = false;
    let mut previous: Option<i64> = None;
    for (start, agg, max_ts) in latest_first {
        let (start, max_ts) = (*start, *max_ts);
        starts.push(start);
        let end = start.saturating_add(d);
        if start == ts.saturating_add(1) {
            right_created = true;
        } else if end > ts {
            if right_agg.is_none() {
                right_agg = Some((agg.clone(), max_ts));
            }
            actions.push(SlidingAction::Update {
                start,
                base: Base::Existing(agg.clone(), max_ts),
            });
        } else if end == ts {
            left_created = true;
            actions.push(SlidingAction::Update {
                start,
                base: Base::Existing(agg.clone(), max_ts),
            });
            if max_ts < ts {
                previous = Some(max_ts);
            } else {
                // A record at this timestamp came before: its windows exist already.
                return Ok(actions);
            }
        } else if end < ts {
            left_agg = Some((agg.clone(), max_ts));
            previous = Some(max_ts);
            break;
        } else {
            return Err(format!(
                "a window starting at {start} cannot be stored when a record at {ts} comes"
            ));
        }
    }
    // The right window of the record before this one, when this one falls in it.
    if let Some(prev) = previous {
        let prev_right = prev.saturating_add(1);
        if !starts.contains(&prev_right) && prev_right.saturating_add(d) >= ts {
            actions.push(SlidingAction::Update {
                start: prev_right,
                base: Base::Initial,
            });
        }
    }
    // The record's left window, from the aggregate before it when the previous record falls
    // in it.
    if !left_created {
        let base = match (&left_agg, previous) {
            (Some((agg, _)), Some(prev)) if ts.saturating_sub(d) <= prev => {
                Base::Existing(agg.clone(), ts)
            }
            _ => Base::Initial,
        };
        actions.push(SlidingAction::Update {
            start: ts.saturating_sub(d),
            base,
        });
    }
    // The record's right window, when later records fall in it.
    if !right_created {
        if let Some((agg, max_ts)) = right_agg {
            if max_ts > ts {
                actions.push(SlidingAction::CreateRight {
                    start: ts.saturating_add(1),
                    agg,
                    timestamp: max_ts,
                });
            }
        }
    }
    Ok(actions)
}

/// The steps for a record at `ts` in `[0, d)` (the time difference) given the key's stored windows starting in
/// `[0, ts + 1]`, earliest first (Kafka's `processEarly`): such records share `[0, d]`.
pub(crate) fn plan_early<A: Clone>(
    ts: i64,
    earliest_first: &[Stored<A>],
) -> Result<Vec<SlidingAction<A>>, String> {
    let mut actions = Vec::new();
    let mut starts = Vec::new();
    let mut combined: Option<(A, i64)> = None;
    let mut right_agg: Option<(A, i64)> = None;
    let mut right_created = false;
    let mut previous: Option<i64> = None;
    for (start, agg, max_ts) in earliest_first {
        let (start, max_ts) = (*start, *max_ts);
        starts.push(start);
        if start == 0 {
            combined = Some((agg.clone(), max_ts));
            if max_ts < ts {
                previous = Some(max_ts);
            }
        } else if start <= ts {
            right_agg = Some((agg.clone(), max_ts));
            actions.push(SlidingAction::Update {
                start,
                base: Base::Existing(agg.clone(), max_ts),
            });
        } else if start == ts.saturating_add(1) {
            right_created = true;
        } else {
            return Err(format!(
                "a window starting at {start} cannot be stored when an early record at {ts} comes"
            ));
        }
    }
    // Without a right window found, [0, d] holds only later records when its latest is later.
    if right_agg.is_none() {
        if let Some((agg, max_ts)) = &combined {
            if *max_ts > ts {
                right_agg = Some((agg.clone(), *max_ts));
            }
        }
    }
    if !right_created {
        if let Some((agg, max_ts)) = right_agg {
            if max_ts > ts {
                actions.push(SlidingAction::CreateRight {
                    start: ts.saturating_add(1),
                    agg,
                    timestamp: max_ts,
                });
            }
        }
    }
    if let Some(prev) = previous {
        let prev_right = prev.saturating_add(1);
        if !starts.contains(&prev_right) {
            actions.push(SlidingAction::Update {
                start: prev_right,
                base: Base::Initial,
            });
        }
    }
    let base = match combined {
        Some((agg, max_ts)) => Base::Existing(agg, max_ts),
        None => Base::Initial,
    };
    actions.push(SlidingAction::Update { start: 0, base });
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(start: i64, base: Base<i64>) -> SlidingAction<i64> {
        SlidingAction::Update { start, base }
    }

    #[test]
    fn a_first_record_creates_its_left_window_only() -> Result<(), String> {
        assert_eq!(plan::<i64>(10, 20, &[])?, vec![update(10, Base::Initial)]);
        Ok(())
    }

    #[test]
    fn a_later_record_within_the_difference_creates_the_previous_right_window() -> Result<(), String>
    {
        // Stored: left window of a record at 20, [10, 20] count 1.
        let stored = [(10, 1, 20)];
        assert_eq!(
            plan(10, 25, &stored)?,
            vec![
                // The record at 20's right window [21, 31] holds the record at 25.
                update(21, Base::Initial),
                // The left window [15, 25] takes [10, 20]'s aggregate (20 falls in it).
                update(15, Base::Existing(1, 25)),
            ]
        );
        Ok(())
    }

    #[test]
    fn an_out_of_order_record_updates_the_windows_holding_it_and_gets_a_right_window(
    ) -> Result<(), String> {
        // Records at 20 and 25 stored: [10, 20]=1, [15, 25]=2, [21, 31]=1 (latest first).
        let stored = [(21, 1, 25), (15, 2, 25), (10, 1, 20)];
        assert_eq!(
            plan(10, 22, &stored)?,
            vec![
                update(21, Base::Existing(1, 25)),
                update(15, Base::Existing(2, 25)),
                // [10, 20] ends before 22: its aggregate starts the left window [12, 22].
                update(12, Base::Existing(1, 22)),
                // [21, 31] holds only the later record at 25: it starts [23, 33].
                SlidingAction::CreateRight {
                    start: 23,
                    agg: 1,
                    timestamp: 25
                },
            ]
        );
        Ok(())
    }

    #[test]
    fn a_second_record_at_the_same_time_only_updates() -> Result<(), String> {
        let stored = [(10, 1, 20)];
        assert_eq!(
            plan(10, 20, &stored)?,
            vec![update(10, Base::Existing(1, 20))]
        );
        Ok(())
    }

    #[test]
    fn early_records_share_the_first_window() -> Result<(), String> {
        assert_eq!(plan_early::<i64>(3, &[])?, vec![update(0, Base::Initial)]);
        // [0, 10] holds a record at 3; a record at 1 gets a right window [2, 12] of it.
        let stored = [(0, 1, 3)];
        assert_eq!(
            plan_early(1, &stored)?,
            vec![
                SlidingAction::CreateRight {
                    start: 2,
                    agg: 1,
                    timestamp: 3
                },
                update(0, Base::Existing(1, 3)),
            ]
        );
        Ok(())
    }
}
