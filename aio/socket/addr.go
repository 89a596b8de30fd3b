//go:build unix

package socket

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// ErrNetwork is matched (errors.Is) by the error for a network name the
// function does not take.
var ErrNetwork = errors.New("socket: unknown or unsupported network")

// ErrAddress is matched by the error for an address that does not parse:
// addresses are numeric for now (an IP literal and a port number, or a
// Unix socket path); host names are refused.
var ErrAddress = errors.New("socket: bad address")

// kind describes a network name: its socket type and family.
type kind struct {
	network string
	stype   int // unix.SOCK_STREAM or unix.SOCK_DGRAM
	family  int // unix.AF_INET, AF_INET6, AF_UNIX, or 0: from the address
}

func parseNetwork(fn, network string, stream bool) (kind, error) {
	k := kind{network: network}
	switch network {
	case "tcp", "udp":
	case "tcp4", "udp4":
		k.family = unix.AF_INET
	case "tcp6", "udp6":
		k.family = unix.AF_INET6
	case "unix", "unixgram":
		k.family = unix.AF_UNIX
	default:
		return k, fmt.Errorf("%w: %s(%q)", ErrNetwork, fn, network)
	}
	switch network {
	case "tcp", "tcp4", "tcp6", "unix":
		k.stype = unix.SOCK_STREAM
	default:
		k.stype = unix.SOCK_DGRAM
	}
	if stream && k.stype != unix.SOCK_STREAM {
		return k, fmt.Errorf("%w: %s(%q): a stream network is needed (tcp, tcp4, tcp6, unix)", ErrNetwork, fn, network)
	}
	if !stream && k.stype != unix.SOCK_DGRAM {
		return k, fmt.Errorf("%w: %s(%q): a datagram network is needed (udp, udp4, udp6, unixgram)", ErrNetwork, fn, network)
	}
	return k, nil
}

// resolve turns a numeric address of network k into a sockaddr, and fixes
// k's family. An empty host is the wildcard address: 0.0.0.0 for tcp, udp,
// tcp4 and udp4, :: for tcp6 and udp6.
func resolve(fn string, k *kind, addr string) (unix.Sockaddr, error) {
	if k.family == unix.AF_UNIX {
		if addr == "" {
			return nil, fmt.Errorf("%w: %s(%q, %q): an empty path", ErrAddress, fn, k.network, addr)
		}
		return &unix.SockaddrUnix{Name: addr}, nil
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %s(%q, %q): %v", ErrAddress, fn, k.network, addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: %s(%q, %q): port %q is not a number from 0 to 65535", ErrAddress, fn, k.network, addr, portStr)
	}
	var ip netip.Addr
	if host == "" {
		if k.family == unix.AF_INET6 {
			ip = netip.IPv6Unspecified()
		} else {
			ip = netip.IPv4Unspecified()
		}
	} else if ip, err = netip.ParseAddr(host); err != nil {
		return nil, fmt.Errorf("%w: %s(%q, %q): %q is not an IP address (names are not resolved yet)", ErrAddress, fn, k.network, addr, host)
	}
	if ip.Zone() != "" {
		return nil, fmt.Errorf("%w: %s(%q, %q): zoned IPv6 addresses are not supported yet", ErrAddress, fn, k.network, addr)
	}
	ip = ip.Unmap()
	switch {
	case ip.Is4() && k.family != unix.AF_INET6:
		k.family = unix.AF_INET
		return &unix.SockaddrInet4{Port: int(port), Addr: ip.As4()}, nil
	case ip.Is6() && k.family != unix.AF_INET:
		k.family = unix.AF_INET6
		return &unix.SockaddrInet6{Port: int(port), Addr: ip.As16()}, nil
	}
	return nil, fmt.Errorf("%w: %s(%q, %q): the address is not of the network's family", ErrAddress, fn, k.network, addr)
}

// toSockaddr converts a net.Addr for SendTo on a socket of family.
func toSockaddr(a net.Addr, family int) (unix.Sockaddr, error) {
	var ip net.IP
	var port int
	switch a := a.(type) {
	case *net.UDPAddr:
		ip, port = a.IP, a.Port
	case *net.TCPAddr:
		ip, port = a.IP, a.Port
	case *net.UnixAddr:
		if family != unix.AF_UNIX {
			return nil, fmt.Errorf("%w: a Unix address for an IP socket", ErrAddress)
		}
		return &unix.SockaddrUnix{Name: a.Name}, nil
	case nil:
		return nil, fmt.Errorf("%w: a nil address", ErrAddress)
	default:
		return nil, fmt.Errorf("%w: an address of type %T", ErrAddress, a)
	}
	switch family {
	case unix.AF_INET:
		if ip4 := ip.To4(); ip4 != nil {
			return &unix.SockaddrInet4{Port: port, Addr: [4]byte(ip4)}, nil
		}
	case unix.AF_INET6:
		if ip16 := ip.To16(); ip16 != nil {
			return &unix.SockaddrInet6{Port: port, Addr: [16]byte(ip16)}, nil
		}
	}
	return nil, fmt.Errorf("%w: %v does not suit the socket's family", ErrAddress, a)
}

// toAddr converts a sockaddr of a socket of type stype into a net.Addr.
func toAddr(sa unix.Sockaddr, stype int) net.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		ip := net.IP(append([]byte(nil), sa.Addr[:]...))
		if stype == unix.SOCK_STREAM {
			return &net.TCPAddr{IP: ip, Port: sa.Port}
		}
		return &net.UDPAddr{IP: ip, Port: sa.Port}
	case *unix.SockaddrInet6:
		ip := net.IP(append([]byte(nil), sa.Addr[:]...))
		if stype == unix.SOCK_STREAM {
			return &net.TCPAddr{IP: ip, Port: sa.Port}
		}
		return &net.UDPAddr{IP: ip, Port: sa.Port}
	case *unix.SockaddrUnix:
		if stype == unix.SOCK_STREAM {
			return &net.UnixAddr{Name: sa.Name, Net: "unix"}
		}
		return &net.UnixAddr{Name: sa.Name, Net: "unixgram"}
	}
	return nil
}
