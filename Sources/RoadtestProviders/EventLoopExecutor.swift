import NIOCore

/// Runs a task's jobs on one NIO event loop. A task that prefers it (`executorPreference:`) does its work on the
/// thread its connections are read on: a response's end resumes the waiting task in the same thread, without a hop
/// to the cooperative pool and back. The load generator pins each virtual user to one.
public final class EventLoopExecutor: TaskExecutor {
    public let loop: any EventLoop

    public init(loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
