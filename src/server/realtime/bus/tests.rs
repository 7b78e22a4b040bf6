//! The bus and its hub, without a database.

use super::*;
use crate::model::EventKind;

fn event(position: i64, team_id: TeamId, text: &str) -> Event {
    Event {
        position,
        team_id,
        kind: EventKind::Output,
        deployment: None,
        wire: text.to_string().into(),
    }
}

async fn next(rx: &mut Subscription) -> Arc<Event> {
    tokio::time::timeout(Duration::from_secs(5), rx.next_event())
        .await
        .expect("an event in time")
        .expect("not lagged")
}

#[tokio::test]
async fn a_team_hears_its_own_events_and_never_another_teams() {
    let bus = EventBus::new(0);
    let (a, b) = (TeamId::new(), TeamId::new());
    let mut of_a = bus.subscribe(a);
    let mut of_b = bus.subscribe(b);
    for position in 1..=100 {
        let team = if position % 3 == 0 { b } else { a };
        bus.publish(position, Some(event(position, team, "x")));
    }
    let mut heard_by_b = Vec::new();
    while let Some(next) = of_b.try_recv() {
        let next = next.expect("not lagged");
        assert_eq!(next.team_id, b, "team b's socket got team a's event");
        heard_by_b.push(next.position);
    }
    assert_eq!(heard_by_b, (3..=99).step_by(3).collect::<Vec<_>>());
    let heard_by_a: Vec<i64> = std::iter::from_fn(|| of_a.try_recv())
        .map(|e| e.expect("not lagged").position)
        .collect();
    assert!(heard_by_a.iter().all(|p| p % 3 != 0));
    assert_eq!(heard_by_a.len(), 67);
    assert_eq!(bus.position(), 100);
}

#[tokio::test]
async fn a_subscriber_that_never_reads_holds_up_nobody_and_then_lags() {
    let bus = EventBus::new(0);
    let (a, b) = (TeamId::new(), TeamId::new());
    let stuck = bus.subscribe(a);
    let mut keeping_up = bus.subscribe(a);
    let mut other_team = bus.subscribe(b);
    let big = "y".repeat(4 * 1024);
    let mut position = 0;
    // Far more than a channel keeps, all of it for the stuck team...
    for _ in 0..(RING_EVENTS + 100) {
        position += 1;
        bus.publish(position, Some(event(position, a, &big)));
        // ...while its other socket takes each as it comes.
        assert_eq!(next(&mut keeping_up).await.position, position);
    }
    position += 1;
    bus.publish(position, Some(event(position, b, "b")));
    assert_eq!(next(&mut other_team).await.position, position);
    let mut stuck = stuck;
    assert_eq!(
        stuck.next_event().await.err(),
        Some(Lagged),
        "the stuck one lagged"
    );
    let (events, bytes) = keeping_up.kept();
    assert!(bytes <= RING_BYTES, "the ring stays bounded: {bytes}");
    assert!(events <= RING_EVENTS);
}

#[tokio::test]
async fn a_recv_waits_for_the_next_event_of_its_team() {
    let bus = EventBus::new(7);
    let (a, b) = (TeamId::new(), TeamId::new());
    let mut rx = bus.subscribe(a);
    let waiting = tokio::spawn(async move { next(&mut rx).await.position });
    tokio::task::yield_now().await;
    bus.publish(8, Some(event(8, b, "b")));
    bus.publish(9, None);
    bus.publish(10, Some(event(10, a, "a")));
    assert_eq!(waiting.await.expect("task"), 10);
}

#[tokio::test]
async fn notices_wake_every_team_and_a_socket_that_missed_some_is_told() {
    let bus = EventBus::new(0);
    let (a, b) = (TeamId::new(), TeamId::new());
    let (mut of_a, mut of_b) = (bus.subscribe(a), bus.subscribe(b));
    let user = UserId::new();
    bus.end(Ended::Member { user, team: a });
    for rx in [&mut of_a, &mut of_b] {
        let Ok(Next::Notice { after }) = rx.recv().await else {
            panic!("a notice");
        };
        let notices = bus.notices_after(after);
        assert_eq!(notices.ended.len(), 1);
        assert!(!notices.missed && !notices.closing);
    }
    for _ in 0..NOTICES_KEPT + 1 {
        bus.end(Ended::Sessions(vec!["s".into()]));
    }
    let Ok(Next::Notice { after }) = of_a.recv().await else {
        panic!("a notice");
    };
    assert!(
        bus.notices_after(after).missed,
        "more endings than are kept"
    );
    bus.close_all();
    let Ok(Next::Notice { after }) = of_b.recv().await else {
        panic!("a notice");
    };
    assert!(bus.notices_after(after).closing);
    assert!(bus.is_closing());
}

#[tokio::test]
async fn a_teams_channel_goes_with_its_last_subscriber() {
    let bus = EventBus::new(0);
    let team = TeamId::new();
    let first = bus.subscribe(team);
    let second = bus.subscribe(team);
    assert_eq!(bus.teams(), 1);
    drop(first);
    assert_eq!(bus.teams(), 1);
    drop(second);
    assert_eq!(bus.teams(), 0);
    // Its events are then kept nowhere, and a new subscriber starts after them.
    bus.publish(1, Some(event(1, team, "gone")));
    let mut later = bus.subscribe(team);
    assert!(later.try_recv().is_none());
    bus.publish(2, Some(event(2, team, "new")));
    assert_eq!(next(&mut later).await.position, 2);
}
