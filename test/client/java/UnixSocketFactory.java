import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.util.Properties;
import javax.net.SocketFactory;

/**
 * pgjdbc speaks TCP only; the test clusters listen only on a Unix socket.
 * This factory (socketFactory=UnixSocketFactory, socketFactoryArg=the socket
 * file) hands pgjdbc an already connected Socket over a JDK 16+ Unix domain
 * SocketChannel.  A deployment connects over TCP and needs none of this.
 */
public final class UnixSocketFactory extends SocketFactory {
    private final String path;

    public UnixSocketFactory(Properties info) {
        this.path = info.getProperty("socketFactoryArg");
    }

    @Override
    public Socket createSocket() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(path));
        return new ChannelSocket(ch);
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return createSocket();
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
            throws IOException {
        return createSocket();
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return createSocket();
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress,
                               int localPort) throws IOException {
        return createSocket();
    }

    /** The little of java.net.Socket that pgjdbc uses, over a channel. */
    private static final class ChannelSocket extends Socket {
        private final SocketChannel ch;
        private final InputStream in;
        private final OutputStream out;
        private int timeout;

        ChannelSocket(SocketChannel ch) {
            this.ch = ch;
            this.in = Channels.newInputStream(ch);
            this.out = Channels.newOutputStream(ch);
        }

        @Override public void connect(SocketAddress endpoint, int timeout) { }
        @Override public boolean isConnected() { return ch.isConnected(); }
        @Override public InputStream getInputStream() { return in; }
        @Override public OutputStream getOutputStream() { return out; }
        @Override public void setTcpNoDelay(boolean on) { }
        @Override public void setKeepAlive(boolean on) { }
        @Override public void setSoTimeout(int timeout) { this.timeout = timeout; }
        @Override public int getSoTimeout() { return timeout; }
        @Override public boolean isClosed() { return !ch.isOpen(); }
        @Override public void close() throws IOException { ch.close(); }
    }
}
