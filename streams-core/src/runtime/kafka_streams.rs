//! The application object (Kafka Streams' `KafkaStreams`): internal topics, stream threads,
//! the application state and its listener, adding and removing threads, closing.
//!
//! ```text
//! Created --start--> Rebalancing <--> Running --close--> PendingShutdown --> NotRunning
//!                          \________________/ --(a thread failed, no replacement)--> PendingError --> Error
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::protocol::Uuid;
use tokio::runtime::{Handle, Runtime};
use tracing::{error, info, warn};

use super::config::{InternalTopicsSetup, StreamsConfig};
use super::metrics::{MetricValue, StreamsMetrics};
use super::restore::StateRestoreListener;
use super::stream_thread::{StreamThread, ThreadContext, ThreadState};
use crate::assignment::{plan_tasks, AssignorHandle, StreamsAssignor, TopologyInfo};
use crate::error::StreamsError;
use crate::state::{ProcessIdentity, StateDirectory};
use crate::topology::Topology;
use crate::TaskId;

/// The application's state (Kafka Streams' `KafkaStreams.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Built, not started.
    Created,
    /// A thread is joining the group or rebalancing.
    Rebalancing,
    /// Every thread is processing.
    Running,
    /// `close` was called.
    PendingShutdown,
    /// Closed.
    NotRunning,
    /// A thread failed and the application is stopping.
    PendingError,
    /// Stopped after a failure.
    Error,
}

/// What to do when a stream thread fails (Kafka's `StreamsUncaughtExceptionHandler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UncaughtResponse {
    /// Start a new thread in its place.
    ReplaceThread,
    /// Stop this application instance (the default).
    ShutdownClient,
    /// Stop every instance of the application (this instance stops; the others are told at
    /// the next rebalance through the assignment's error code).
    ShutdownApplication,
}

type StateListener = Arc<dyn Fn(State, State) + Send + Sync>;
type ErrorHandler = Arc<dyn Fn(&StreamsError) -> UncaughtResponse + Send + Sync>;

/// One stream thread of this instance and the tasks it runs (Kafka Streams'
/// `ThreadMetadata`, as returned by `metadataForLocalThreads()`, without client ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadMetadata {
    /// The thread's name (`<application.id>-<process id>-StreamThread-<n>`).
    pub thread_name: String,
    /// The thread's state.
    pub thread_state: ThreadState,
    /// The active tasks it owns after its last rebalance.
    pub active_tasks: BTreeSet<TaskId>,
    /// The standby (and warm-up) tasks it keeps.
    pub standby_tasks: BTreeSet<TaskId>,
}

/// A thread's active and standby tasks.
type ThreadTasks = (BTreeSet<TaskId>, BTreeSet<TaskId>);

struct Shared {
    state: Mutex<State>,
    threads: Mutex<BTreeMap<usize, ThreadState>>,
    /// Active and standby tasks per thread, as each thread last reported them.
    tasks: Mutex<BTreeMap<usize, ThreadTasks>>,
    listener: Mutex<Option<StateListener>>,
}

impl Shared {
    fn set(&self, next: State) {
        let prev = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let prev = *s;
            if prev == next {
                return;
            }
            *s = next;
            prev
        };
        info!(from = ?prev, to = ?next, "state");
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(l) = listener {
            l(prev, next);
        }
    }

    fn on_thread(&self, index: usize, state: ThreadState) {
        let all_running = {
            let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
            threads.insert(index, state);
            let live: Vec<&ThreadState> = threads
                .values()
                .filter(|s| !matches!(s, ThreadState::Dead | ThreadState::PendingShutdown))
                .collect();
            !live.is_empty() && live.iter().all(|s| **s == ThreadState::Running)
        };
        let current = *self.state.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(current, State::Rebalancing | State::Running) {
            self.set(if all_running {
                State::Running
            } else {
                State::Rebalancing
            });
        }
    }
}

struct RunningThread {
    name: String,
    shutdown: Arc<AtomicBool>,
    rejoin: Arc<AtomicBool>,
    assignor: AssignorHandle,
    join: JoinHandle<()>,
}

/// A Kafka Streams application instance.
pub struct KafkaStreams {
    topology: Topology,
    config: StreamsConfig,
    shared: Arc<Shared>,
    on_error: ErrorHandler,
    runtime: Option<Runtime>,
    handle: Handle,
    process_id: Uuid,
    /// The process id kept in the state directory (and its lock).
    identity: Arc<ProcessIdentity>,
    env: Option<Arc<ThreadEnv>>,
    global: Option<super::global_thread::GlobalThread>,
    metrics: Arc<StreamsMetrics>,
    restore_listener: Option<Arc<dyn StateRestoreListener>>,
    cleaner: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for KafkaStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaStreams")
            .field("application_id", &self.config.application_id)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl KafkaStreams {
    /// An application running `topology` with `config` (checked here).
    pub fn new(topology: Topology, config: StreamsConfig) -> Result<KafkaStreams, StreamsError> {
        config.validate()?;
        let (runtime, handle) = match Handle::try_current() {
            Ok(h) => (None, h),
            Err(_) => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name(format!("{}-io", config.application_id))
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        StreamsError::IllegalState(format!("cannot start the I/O runtime: {e}"))
                    })?;
                let h = rt.handle().clone();
                (Some(rt), h)
            }
        };
        let identity = Arc::new(claim_process_id(&topology, &config)?);
        Ok(KafkaStreams {
            topology,
            config,
            shared: Arc::new(Shared {
                state: Mutex::new(State::Created),
                threads: Mutex::new(BTreeMap::new()),
                tasks: Mutex::new(BTreeMap::new()),
                listener: Mutex::new(None),
            }),
            on_error: Arc::new(|_| UncaughtResponse::ShutdownClient),
            runtime,
            handle,
            process_id: Uuid(identity.bytes()),
            identity,
            env: None,
            global: None,
            metrics: Arc::new(StreamsMetrics::new()),
            restore_listener: None,
            cleaner: None,
        })
    }

    /// Told about every changelog restoration of every stream thread (Kafka's
    /// `setGlobalStateRestoreListener`); set before `start`.
    pub fn set_global_state_restore_listener(
        &mut self,
        listener: impl StateRestoreListener + 'static,
    ) {
        self.restore_listener = Some(Arc::new(listener));
    }

    /// Called with (old, new) on every state change.
    pub fn set_state_listener(&mut self, listener: impl Fn(State, State) + Send + Sync + 'static) {
        *self
            .shared
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(listener));
    }

    /// Decides what a failed stream thread leads to (default: shut this instance down).
    pub fn set_uncaught_exception_handler(
        &mut self,
        handler: impl Fn(&StreamsError) -> UncaughtResponse + Send + Sync + 'static,
    ) {
        self.on_error = Arc::new(handler);
    }

    /// Every metric now (the same figures the `metrics` facade receives), named as Kafka
    /// Streams names them.
    pub fn metrics(&self) -> Vec<MetricValue> {
        self.metrics.snapshot()
    }

    /// The current state.
    pub fn state(&self) -> State {
        *self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This instance's stream threads with their active tasks (Kafka Streams'
    /// `metadataForLocalThreads()`): one entry per thread started and not removed, in the
    /// order they were added. A thread's tasks are those of its last completed rebalance
    /// (empty before its first and after it stopped).
    pub fn local_thread_metadata(&self) -> Vec<ThreadMetadata> {
        let Some(env) = &self.env else {
            return Vec::new();
        };
        let threads = env.threads.lock().unwrap_or_else(|p| p.into_inner());
        let states = self
            .shared
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let tasks = self
            .shared
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        threads
            .iter()
            .map(|(i, t)| ThreadMetadata {
                thread_name: t.name.clone(),
                thread_state: states.get(i).copied().unwrap_or(ThreadState::Starting),
                active_tasks: tasks.get(i).map(|t| t.0.clone()).unwrap_or_default(),
                standby_tasks: tasks.get(i).map(|t| t.1.clone()).unwrap_or_default(),
            })
            .collect()
    }

    /// Create (or check) the internal topics and start `num.stream.threads` threads.
    pub fn start(&mut self) -> Result<(), StreamsError> {
        if self.state() != State::Created {
            return Err(StreamsError::IllegalState(format!(
                "start() was called in state {:?}; an application starts once",
                self.state()
            )));
        }
        let admin = self.handle.block_on(Admin::connect(self.config.admin()?))?;
        self.handle.block_on(self.setup_internal_topics(&admin))?;
        let (global_stores, global) =
            super::global_thread::start(&self.topology, &self.config, &self.handle, &admin)?;
        self.global = global;
        let state_directory = if self.topology.has_persistent_stores_anywhere() {
            let dir = StateDirectory::new(
                std::path::Path::new(&self.config.state_dir),
                &self.config.application_id,
            )
            .map_err(|e| StreamsError::Config(e.to_string()))?;
            Some(dir)
        } else {
            None
        };
        let info = self
            .topology
            .topology_info(&self.config.application_id)
            .map_err(|e| StreamsError::IllegalState(e.to_string()))?;
        let env = Arc::new(ThreadEnv {
            topology: self.topology.clone(),
            topology_info: Arc::new(info),
            config: self.config.clone(),
            handle: self.handle.clone(),
            admin,
            process_id: self.process_id,
            identity: self.identity.clone(),
            shared: self.shared.clone(),
            on_error: self.on_error.clone(),
            threads: Mutex::new(BTreeMap::new()),
            next_index: AtomicUsize::new(1),
            closing: AtomicBool::new(false),
            metrics: self.metrics.clone(),
            global_stores,
            state_directory: state_directory.clone(),
            restore_listener: self.restore_listener.clone(),
        });
        self.env = Some(env.clone());
        if let Some(dir) = state_directory {
            self.cleaner = Some(spawn_state_cleaner(
                dir,
                self.config.state_cleanup_delay,
                env.clone(),
            )?);
        }
        self.shared.set(State::Rebalancing);
        for _ in 0..self.config.num_stream_threads {
            spawn_thread(&env)?;
        }
        Ok(())
    }

    async fn setup_internal_topics(&self, admin: &Admin) -> Result<(), StreamsError> {
        let app = &self.config.application_id;
        let info = self
            .topology
            .topology_info(app)
            .map_err(|e| StreamsError::IllegalState(e.to_string()))?;
        if info.internal_topics().is_empty() {
            return Ok(());
        }
        let external: Vec<String> = info
            .external_source_topics()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let names: Vec<&str> = external.iter().map(String::as_str).collect();
        let described = admin.describe_topics(&names).await?;
        let counts: BTreeMap<String, i32> = described
            .iter()
            .map(|t| (t.name.clone(), t.partitions.len() as i32))
            .collect();
        let plan =
            plan_tasks(&info, &counts).map_err(|e| StreamsError::IllegalState(e.to_string()))?;
        let topics: Vec<NewTopic> = plan
            .internal_topics
            .iter()
            .map(|(name, partitions)| {
                let mut t = NewTopic::new(name, *partitions, self.config.replication_factor);
                let mut configs: BTreeMap<String, String> = BTreeMap::new();
                configs.insert("message.timestamp.type".into(), "CreateTime".into());
                if info.is_changelog_topic(name) {
                    configs.insert("cleanup.policy".into(), "compact".into());
                    if let Some(store) = self.topology.store_of_changelog(app, name) {
                        configs.extend(self.topology.changelog_config(store));
                    }
                } else {
                    configs.insert("cleanup.policy".into(), "delete".into());
                    configs.insert("segment.bytes".into(), "52428800".into());
                    configs.insert("retention.ms".into(), "-1".into());
                }
                t.configs = configs;
                t
            })
            .collect();
        match self.config.internal_topics {
            InternalTopicsSetup::Create => {
                admin.ensure_topics(&topics).await?;
            }
            InternalTopicsSetup::MustExist => {
                let names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
                let existing: Vec<String> = admin
                    .describe_topics(&names)
                    .await
                    .map(|d| {
                        d.into_iter()
                            .filter(|t| !t.partitions.is_empty())
                            .map(|t| t.name)
                            .collect()
                    })
                    .unwrap_or_default();
                let missing: Vec<String> = topics
                    .iter()
                    .filter(|t| !existing.contains(&t.name))
                    .map(|t| {
                        format!(
                            "{} (partitions {}, configs {:?})",
                            t.name, t.num_partitions, t.configs
                        )
                    })
                    .collect();
                if !missing.is_empty() {
                    return Err(StreamsError::Config(format!(
                        "internal.topics.setup=must_exist and these internal topics are missing; create them: {}",
                        missing.join("; ")
                    )));
                }
            }
        }
        Ok(())
    }

    /// Start one more stream thread; returns its name.
    pub fn add_stream_thread(&mut self) -> Result<String, StreamsError> {
        let Some(env) = &self.env else {
            return Err(StreamsError::IllegalState(
                "add_stream_thread before start()".into(),
            ));
        };
        spawn_thread(env)
    }

    /// Stop the most recently added stream thread (its tasks move to the others); returns its
    /// name, or `None` if none runs.
    pub fn remove_stream_thread(&mut self, timeout: Duration) -> Option<String> {
        let env = self.env.as_ref()?;
        let last = {
            let mut threads = env.threads.lock().unwrap_or_else(|p| p.into_inner());
            let key = *threads.keys().next_back()?;
            threads.remove(&key)?
        };
        last.shutdown.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + timeout;
        while !last.join.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(last.name)
    }

    /// Stop every thread (committing what was processed, leaving the group) within `timeout`;
    /// returns whether all stopped in time.
    pub fn close(&mut self, timeout: Duration) -> bool {
        if matches!(self.state(), State::NotRunning) {
            return true;
        }
        let failed = self.state() == State::Error;
        if !failed {
            self.shared.set(State::PendingShutdown);
        }
        let Some(env) = &self.env else {
            if !failed {
                self.shared.set(State::NotRunning);
            }
            return true;
        };
        env.closing.store(true, Ordering::Relaxed);
        let threads: Vec<RunningThread> =
            std::mem::take(&mut *env.threads.lock().unwrap_or_else(|p| p.into_inner()))
                .into_values()
                .collect();
        for t in &threads {
            t.shutdown.store(true, Ordering::Relaxed);
        }
        let deadline = Instant::now() + timeout;
        let mut all = true;
        for t in threads {
            while !t.join.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if t.join.is_finished() {
                let _ = t.join.join();
            } else {
                all = false;
            }
        }
        if let Some(g) = &mut self.global {
            g.stop(deadline.saturating_duration_since(Instant::now()));
        }
        if !failed {
            self.shared.set(State::NotRunning);
        }
        all
    }
}

/// What every stream thread of one instance is started from; shared so a failed thread can be
/// replaced from the thread itself.
struct ThreadEnv {
    topology: Topology,
    topology_info: Arc<TopologyInfo>,
    config: StreamsConfig,
    handle: Handle,
    admin: Admin,
    process_id: Uuid,
    identity: Arc<ProcessIdentity>,
    shared: Arc<Shared>,
    on_error: ErrorHandler,
    threads: Mutex<BTreeMap<usize, RunningThread>>,
    next_index: AtomicUsize,
    /// `close` was called: a failing thread is not replaced.
    closing: AtomicBool,
    metrics: Arc<StreamsMetrics>,
    global_stores: BTreeMap<String, crate::state::SharedStore>,
    state_directory: Option<StateDirectory>,
    restore_listener: Option<Arc<dyn StateRestoreListener>>,
}

/// Every `state.cleanup.delay.ms` (checked at most once a minute), delete the state
/// directories of tasks no thread here holds (Kafka's state directory cleaner).
fn spawn_state_cleaner(
    dir: StateDirectory,
    delay: Duration,
    env: Arc<ThreadEnv>,
) -> Result<JoinHandle<()>, StreamsError> {
    let period = delay
        .min(Duration::from_secs(60))
        .max(Duration::from_millis(100));
    std::thread::Builder::new()
        .name(format!("{}-CleanupThread", env.config.application_id))
        .spawn(move || {
            let mut last = std::time::Instant::now();
            while !env.closing.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if last.elapsed() >= period {
                    last = std::time::Instant::now();
                    dir.clean_unused(delay, std::time::SystemTime::now());
                }
            }
        })
        .map_err(|e| StreamsError::IllegalState(format!("cannot start the state cleaner: {e}")))
}

/// The process id of `state.dir/<application.id>` (Kafka Streams keeps it there), or a fresh
/// one when the directory cannot be used and nothing needs it (no persistent stores).
fn claim_process_id(
    topology: &Topology,
    config: &StreamsConfig,
) -> Result<ProcessIdentity, StreamsError> {
    let claimed = StateDirectory::new(
        std::path::Path::new(&config.state_dir),
        &config.application_id,
    )
    .and_then(|dir| dir.claim_process_id());
    match claimed {
        Ok(identity) => Ok(identity),
        Err(e) if !topology.has_persistent_stores_anywhere() => {
            warn!(error = %e, "no usable state directory: running with a fresh process id (a restart will not resume static group membership)");
            Ok(ProcessIdentity::ephemeral())
        }
        Err(e) => Err(StreamsError::Config(e.to_string())),
    }
}

/// Whether `e` is the fencing of a `group.instance.id` this runtime derived itself (static
/// membership on, no user-set `group.instance.id`).
fn own_instance_id_fenced(config: &StreamsConfig, e: &StreamsError) -> bool {
    let fenced = matches!(e, StreamsError::Kafka(k) if k.code() == Some(kafka_wire::protocol::ErrorCode::FENCED_INSTANCE_ID));
    fenced && config.derives_group_instance_id()
}

/// Start a stream thread of `env`; returns its name.
fn spawn_thread(env: &Arc<ThreadEnv>) -> Result<String, StreamsError> {
    let index = env.next_index.fetch_add(1, Ordering::Relaxed);
    let name = format!(
        "{}-{}-StreamThread-{index}",
        env.config.application_id, env.process_id
    );
    let assignor_handle = AssignorHandle::new();
    // Standbys, warm-ups and rack tags come from the config; the leader reads the
    // changelogs' end offsets to weigh each instance's lag (KIP-441).
    let assignor = StreamsAssignor::new(
        env.topology_info.clone(),
        env.process_id,
        assignor_handle.clone(),
    )
    .with_configs(env.config.assignment_configs())
    .with_client_tags(env.config.client_tags.clone())
    .with_changelog_end_offsets(Arc::new(crate::assignment::AdminChangelogEndOffsets));
    let shutdown = Arc::new(AtomicBool::new(false));
    let rejoin = Arc::new(AtomicBool::new(false));
    let shared = env.shared.clone();
    let thread_assignor = assignor_handle.clone();
    let cx = ThreadContext {
        rejoin: rejoin.clone(),
        index,
        name: name.clone(),
        topology: env.topology.clone(),
        config: env.config.clone(),
        handle: env.handle.clone(),
        admin: env.admin.clone(),
        assignor: Some(Arc::new(assignor)),
        assignor_handle: Some(assignor_handle),
        shutdown: shutdown.clone(),
        on_state: Arc::new(move |i, s| shared.on_thread(i, s)),
        metrics: env.metrics.clone(),
        global_stores: env.global_stores.clone(),
        state_directory: env.state_directory.clone(),
        restore_listener: env.restore_listener.clone(),
        process_uuid: env.identity.to_uuid_string(),
        on_tasks: {
            let shared = env.shared.clone();
            Arc::new(move |i, active, standby| {
                shared
                    .tasks
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(i, (active, standby));
            })
        },
    };
    let thread_env = env.clone();
    let join = std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            // The clients spawn their background tasks on the I/O runtime.
            let runtime = cx.handle.clone();
            let _entered = runtime.enter();
            let result = StreamThread::create(cx).and_then(StreamThread::run);
            let Err(e) = result else { return };
            error!(error = %e, "stream thread failed");
            let env = thread_env;
            env.shared.on_thread(index, ThreadState::Dead);
            env.threads
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&index);
            if env.closing.load(Ordering::Relaxed) {
                return;
            }
            if let StreamsError::ShutdownByGroup { .. } = e {
                // Told by the group: no handler, the whole instance stops.
                env.shared.set(State::PendingError);
                for t in env.threads.lock().unwrap_or_else(|p| p.into_inner()).values() {
                    t.shutdown.store(true, Ordering::Relaxed);
                }
                env.shared.set(State::Error);
                return;
            }
            // A static member id we derived (from this instance's own process id) was fenced:
            // no other live instance has it (the process id is locked in the state
            // directory), so it is the coordinator's doing — e.g. a member id it reverted when
            // persisting the join failed while a broker was down. The thread is replaced: the
            // new one joins under the next thread index, as a new static member.
            let response = if own_instance_id_fenced(&env.config, &e) {
                warn!(error = %e, "this thread's static membership was fenced by the coordinator; replacing the thread");
                UncaughtResponse::ReplaceThread
            } else {
                (env.on_error)(&e)
            };
            match response {
                UncaughtResponse::ReplaceThread => match spawn_thread(&env) {
                    Ok(n) => info!(thread = %n, "replaced the failed stream thread"),
                    Err(e) => error!(error = %e, "could not replace the failed stream thread"),
                },
                UncaughtResponse::ShutdownApplication => {
                    // Carried to the leader by a live thread's next subscription; every
                    // member (this instance's too) then stops with SHUTDOWN_REQUESTED.
                    let threads = env.threads.lock().unwrap_or_else(|p| p.into_inner());
                    match threads.values().next() {
                        Some(t) => {
                            t.assignor.request_shutdown();
                            t.rejoin.store(true, Ordering::Relaxed);
                        }
                        None => {
                            error!("SHUTDOWN_APPLICATION requested but this instance has no live thread to tell the group; shutting down this instance only");
                            drop(threads);
                            env.shared.set(State::PendingError);
                            env.shared.set(State::Error);
                        }
                    }
                }
                UncaughtResponse::ShutdownClient => {
                    env.shared.set(State::PendingError);
                    for t in env
                        .threads
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .values()
                    {
                        t.shutdown.store(true, Ordering::Relaxed);
                    }
                    env.shared.set(State::Error);
                }
            }
        })
        .map_err(|e| StreamsError::IllegalState(format!("cannot spawn a stream thread: {e}")))?;
    env.threads
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            index,
            RunningThread {
                name: name.clone(),
                shutdown,
                rejoin,
                assignor: thread_assignor,
                join,
            },
        );
    Ok(name)
}

impl Drop for KafkaStreams {
    fn drop(&mut self) {
        self.close(Duration::from_secs(30));
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}
