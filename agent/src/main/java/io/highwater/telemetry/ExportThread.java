package io.highwater.telemetry;

/**
 * The thread a sender exports on, with a small fixed queue: a daemon thread started with the sender (when the SDK
 * is built, with memory to spare) and kept, that waits for work with {@code Object.wait}, which allocates nothing.
 *
 * <p>Not a {@code ThreadPoolExecutor}: on JDK 17 an idle pool thread allocates a queue node every time it waits,
 * and dies when the heap is full; a pool that must start a thread in a memory crisis may get none.
 *
 * <p>Thread-safe. What is queued when it is closed still runs; nothing can be queued after.
 */
final class ExportThread {

    private final Runnable[] slots;
    private final Thread thread;
    private int head;
    private int size;
    private boolean closed;

    ExportThread(String name, int capacity) {
        this.slots = new Runnable[capacity];
        this.thread = new Thread(new Loop(), name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues {@code work}; false when the queue is full or closed. */
    synchronized boolean offer(Runnable work) {
        if (closed || size == slots.length) {
            return false;
        }
        slots[(head + size) % slots.length] = work;
        size++;
        notifyAll();
        return true;
    }

    /** Closes the queue and waits up to {@code waitMillis} for the thread to finish what was queued. */
    void close(long waitMillis) {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(Math.max(1, waitMillis));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The next work, waiting for it; null once closed and empty. */
    private synchronized Runnable take() {
        while (size == 0 && !closed) {
            try {
                wait();
            } catch (InterruptedException e) {
                // nobody but the JVM interrupts this thread; keep waiting for work or the close
            }
        }
        if (size == 0) {
            return null;
        }
        Runnable work = slots[head];
        slots[head] = null;
        head = (head + 1) % slots.length;
        size--;
        return work;
    }

    private final class Loop implements Runnable {
        @Override
        public void run() {
            while (true) {
                try {
                    Runnable work = take();
                    if (work == null) {
                        return;
                    }
                    work.run();
                } catch (Throwable t) {
                    // the work reports its own failures; this thread goes on
                }
            }
        }
    }
}
